/* Private to engine/sched/: the render's scenes from the visuals policy's result
 * (scripts/agents/visuals.lua, deps.visuals), turned into local files the filter graph reads:
 * emoji rasterised into the cache, library files checked to lie inside media.library, stock
 * pictures and clips downloaded once (cached by URL, recorded by sha256) into the object store.
 * Relies on: media/media.h, objstore/objstore.h, cJSON, libcurl. */
#ifndef AIN_SCHED_SCENES_STEP_H
#define AIN_SCHED_SCENES_STEP_H

#include <cjson/cJSON.h>

#include "config/config.h"
#include "media/media.h"
#include "objstore/objstore.h"

typedef struct {
  ain_media_scene_t *scenes;
  size_t n;
  char (*paths)[4096];    /* scenes[i].path points here */
  char (*pictures)[4096]; /* scenes[i].picture points here */
  cJSON *credits;         /* [{scene, source, url, page_url, author, licence, sha256, key}] */
} ain__scenes_t;

/* Blocking (child processes, downloads, file copies): on the thread pool. visuals is the visuals
 * step's result ({scenes = [...]}); the scenes' times are checked by the graph builder later.
 * size_px: the picture size (half the frame width). On failure AIN_EINVAL names the field
 * ("deps.visuals.scenes[2].visual.kind"), other codes the file or URL. */
int ain__scenes_materialise(const ain_config_t *cfg, const cJSON *visuals, const char *cache_dir,
                            ain_objstore_t *os, int size_px, ain__scenes_t *out, ain_err_t *err);
void ain__scenes_free(ain__scenes_t *s);

/* The media library's index for the visuals policy: [{path, kind = "image"|"clip", tags = {...},
 * licence, attribution, title}] from media.library's files and their sidecar <file>.json (at most
 * 2000 files; none configured = empty). Blocking: on the thread pool. */
int ain__library_scan(const char *dir, cJSON **out, ain_err_t *err);

#endif
