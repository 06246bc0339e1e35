/* The route table: every endpoint of the API, its method, path pattern and the weakest role that
 * may call it (AIN_ROLE_NONE: no authentication at dispatch: /healthz and /readyz, the
 * console's static files, and the media routes, which accept a ticket instead and authenticate
 * themselves). docs/api.md lists the same table. Handlers are in the files named beside them.
 * Relies on: internal.h. */
#include "api/internal.h"

/* GET /v1/whoami: who the server thinks is calling (sign-in check for tools and the console). */
static int whoami(ain__api_call_t *call) {
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "actor", call->caller->actor);
  cJSON_AddStringToObject(b, "subject", call->caller->subject);
  cJSON_AddStringToObject(b, "role", ain_role_name(call->caller->role));
  cJSON_AddStringToObject(b, "via", call->caller->via);
  ain__api_send_json(call->req, 200, b);
  return 0;
}

const ain__api_route_t ain__api_routes[] = {
    {"GET", "/healthz", AIN_ROLE_NONE, ain__api_healthz},       /* health.c */
    {"GET", "/readyz", AIN_ROLE_NONE, ain__api_readyz},         /* health.c */
    /* The console's static files (no data in them; its API calls carry the token). */
    {"GET", "/console", AIN_ROLE_NONE, ain__api_console_index},     /* console.c */
    {"HEAD", "/console", AIN_ROLE_NONE, ain__api_console_index},
    {"GET", "/console/{file}", AIN_ROLE_NONE, ain__api_console_file},
    {"HEAD", "/console/{file}", AIN_ROLE_NONE, ain__api_console_file},
    /* viewer, or none with api.metrics_public (route.c) */
    {"GET", "/metrics", AIN_ROLE_VIEWER, ain__api_metrics},     /* metrics.c */
    {"GET", "/v1/whoami", AIN_ROLE_VIEWER, whoami},
    {"GET", "/v1/events", AIN_ROLE_VIEWER, ain__api_events},               /* events.c */
    {"GET", "/v1/tasks", AIN_ROLE_VIEWER, ain__api_task_list},             /* tasks.c */
    {"GET", "/v1/tasks/{id}", AIN_ROLE_VIEWER, ain__api_task_show},        /* tasks.c */
    {"POST", "/v1/tasks", AIN_ROLE_OPERATOR, ain__api_task_enqueue},        /* tasks_write.c */
    {"POST", "/v1/tasks/{id}/cancel", AIN_ROLE_OPERATOR, ain__api_task_cancel}, /* tasks.c */
    {"GET", "/v1/tasks/{id}/audit", AIN_ROLE_VIEWER, ain__api_task_audit},  /* tasks_write.c */
    {"POST", "/v1/tasks/{id}/retry", AIN_ROLE_OPERATOR, ain__api_task_retry}, /* tasks_write.c */
    {"GET", "/v1/dags", AIN_ROLE_VIEWER, ain__api_dag_list},               /* dags.c */
    {"GET", "/v1/dags/{id}", AIN_ROLE_VIEWER, ain__api_dag_show},          /* dags.c */
    {"GET", "/v1/audit", AIN_ROLE_VIEWER, ain__api_audit},                 /* dags.c */
    {"GET", "/v1/reviews", AIN_ROLE_VIEWER, ain__api_review_list},         /* reviews.c */
    {"GET", "/v1/reviews/{id}", AIN_ROLE_VIEWER, ain__api_review_show},    /* reviews.c */
    {"POST", "/v1/reviews/{id}/approve", AIN_ROLE_REVIEWER, ain__api_review_approve},
    {"POST", "/v1/reviews/{id}/reject", AIN_ROLE_REVIEWER, ain__api_review_reject},
    {"GET", "/v1/videos/{id}", AIN_ROLE_VIEWER, ain__api_video_show},      /* videos.c */
    {"POST", "/v1/videos/{id}/unpublish", AIN_ROLE_OPERATOR, ain__api_video_unpublish},
    {"GET", "/v1/takedowns", AIN_ROLE_VIEWER, ain__api_takedowns},         /* unpublish.c */
    {"GET", "/v1/similar", AIN_ROLE_VIEWER, ain__api_similar},             /* similar.c */
    /* A viewer or a ticket of GET /v1/videos/{id}: media.c authenticates itself. */
    {"GET", "/v1/videos/{id}/media", AIN_ROLE_NONE, ain__api_video_media}, /* media.c */
    {"HEAD", "/v1/videos/{id}/media", AIN_ROLE_NONE, ain__api_video_media},
    {"GET", "/v1/videos/{id}/thumbnail", AIN_ROLE_NONE, ain__api_video_thumbnail},
    {"HEAD", "/v1/videos/{id}/thumbnail", AIN_ROLE_NONE, ain__api_video_thumbnail},
    {"GET", "/v1/publishers", AIN_ROLE_VIEWER, ain__api_publishers_get},   /* admin.c */
    {"POST", "/v1/publishers", AIN_ROLE_OPERATOR, ain__api_publishers_post},
    {"GET", "/v1/nodes", AIN_ROLE_VIEWER, ain__api_nodes},
    {"GET", "/v1/stats", AIN_ROLE_VIEWER, ain__api_stats},
    {"GET", "/v1/scripts", AIN_ROLE_VIEWER, ain__api_scripts},
    {"POST", "/v1/scripts/{module}/pin", AIN_ROLE_OPERATOR, ain__api_script_pin},
    {"POST", "/v1/scripts/{module}/unpin", AIN_ROLE_OPERATOR, ain__api_script_unpin},
    {"POST", "/v1/scripts/{folder}/{module}/pin", AIN_ROLE_OPERATOR, ain__api_script_pin},
    {"POST", "/v1/scripts/{folder}/{module}/unpin", AIN_ROLE_OPERATOR, ain__api_script_unpin},
};
const size_t ain__api_nroutes = sizeof ain__api_routes / sizeof ain__api_routes[0];
