/* Safe areas as data: per platform, the bands of a vertical video that the app's own UI covers
 * (status bar and search/tabs at the top, the description, sound and comment bar at the bottom,
 * the like/comment/share rail on the right), as fractions of the frame so that any render size
 * uses them. The floor is what no profile may go under and what every caption or title obeys
 * whatever the configuration says: top 14 %, bottom 20 %, right 12 % (issue 12 §5).
 * The figures follow the platforms' published creative guides for 1080x1920 (TikTok: UI bands
 * ~270 px top, ~420 px bottom, ~140 px right; Instagram Reels: 14 % top, 35 % bottom kept free;
 * YouTube Shorts: ~14 % top, ~25 % bottom, the button column on the right), rounded outwards.
 * Relies on: core/err, media.h. */
#include <math.h>
#include <string.h>

#include "media/internal.h"

const ain_media_safe_profile_t ain_media_safe_profiles[] = {
    {"tiktok", 0.14, 0.22, 0.06, 0.13},
    {"reels", 0.14, 0.35, 0.06, 0.12},
    {"shorts", 0.14, 0.25, 0.06, 0.12},
    {NULL, 0, 0, 0, 0},
};

const ain_media_safe_profile_t ain_media_safe_floor = {"floor", 0.14, 0.20, 0.0, 0.12};

const ain_media_safe_profile_t *ain_media_safe_profile_find(const char *name) {
  for (const ain_media_safe_profile_t *p = ain_media_safe_profiles; name && p->name; p++) {
    if (strcmp(p->name, name) == 0) {
      return p;
    }
  }
  return NULL;
}

/* Rounded up: a band of 14 % of 1919 px is 268.66 px, and text must not touch its last row. */
static int frac_px(double f, int size) {
  return (int)ceil(f * (double)size - 1e-9);
}

int ain_media_safe_area_profile(const char *name, int width, int height,
                                ain_media_safe_area_t *out, ain_err_t *err) {
  const ain_media_safe_profile_t *p = ain_media_safe_profile_find(name);
  if (p == NULL) {
    return ain_err_field(err, AIN_EINVAL, "safe_area.profile",
                         "safe area profile \"%.32s\" is not one of tiktok, reels, shorts",
                         name ? name : "(null)");
  }
  if (width < 16 || height < 16) {
    return ain_err_field(err, AIN_EINVAL, "size", "safe area: size %dx%d too small", width, height);
  }
  out->top_px = frac_px(p->top, height);
  out->bottom_px = frac_px(p->bottom, height);
  out->left_px = frac_px(p->left, width);
  out->right_px = frac_px(p->right, width);
  ain_media_safe_area_floor(out, width, height);
  return 0;
}

void ain_media_safe_area_floor(ain_media_safe_area_t *sa, int width, int height) {
  const ain_media_safe_profile_t *f = &ain_media_safe_floor;
  int top = frac_px(f->top, height), bottom = frac_px(f->bottom, height);
  int left = frac_px(f->left, width), right = frac_px(f->right, width);
  sa->top_px = sa->top_px > top ? sa->top_px : top;
  sa->bottom_px = sa->bottom_px > bottom ? sa->bottom_px : bottom;
  sa->left_px = sa->left_px > left ? sa->left_px : left;
  sa->right_px = sa->right_px > right ? sa->right_px : right;
}
