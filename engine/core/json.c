/* Canonical JSON (see json.h): a sorted deep copy printed by cJSON.
 * Relies on: cJSON. Running out of memory aborts, as ain_strdup does. */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

static int key_before(const cJSON *a, const cJSON *b) {
  return strcmp(a->string ? a->string : "", b->string ? b->string : "") < 0;
}

/* Stable merge sort of a child list by key; fixes the prev links, which cJSON relies on (the
 * head's prev is the tail). */
static cJSON *sort_list(cJSON *head) {
  if (head == NULL || head->next == NULL) {
    return head;
  }
  cJSON *slow = head, *fast = head->next;
  while (fast != NULL && fast->next != NULL) {
    slow = slow->next;
    fast = fast->next->next;
  }
  cJSON *right = slow->next;
  slow->next = NULL;
  cJSON *a = sort_list(head), *b = sort_list(right);
  cJSON out = {0}, *tail = &out;
  while (a != NULL && b != NULL) {
    if (key_before(b, a)) { /* equal keys keep their order: stable */
      tail->next = b;
      b = b->next;
    } else {
      tail->next = a;
      a = a->next;
    }
    tail = tail->next;
  }
  tail->next = a != NULL ? a : b;
  return out.next;
}

static void sort_in_place(cJSON *v) {
  if (v == NULL) {
    return;
  }
  if (cJSON_IsObject(v)) {
    v->child = sort_list(v->child);
    cJSON *prev = NULL;
    for (cJSON *c = v->child; c != NULL; c = c->next) {
      c->prev = prev;
      prev = c;
    }
    if (v->child != NULL) {
      v->child->prev = prev; /* cJSON: the first child's prev is the last child */
    }
  }
  for (cJSON *c = v->child; c != NULL; c = c->next) {
    sort_in_place(c);
  }
}

cJSON *ain_json_sorted(const cJSON *v) {
  if (v == NULL) {
    return NULL;
  }
  cJSON *copy = cJSON_Duplicate(v, 1);
  if (copy == NULL) {
    abort(); /* OOM is fatal, as in ain_strdup */
  }
  sort_in_place(copy);
  return copy;
}

char *ain_json_canonical(const cJSON *v, int pretty) {
  if (v == NULL) {
    return NULL;
  }
  cJSON *s = ain_json_sorted(v);
  char *text = pretty ? cJSON_Print(s) : cJSON_PrintUnformatted(s);
  cJSON_Delete(s);
  if (text == NULL) {
    abort();
  }
  return text;
}

char *ain_json_canonical_text(const char *text, int pretty) {
  cJSON *v = text != NULL ? cJSON_Parse(text) : NULL;
  char *out = ain_json_canonical(v, pretty);
  cJSON_Delete(v);
  return out;
}
