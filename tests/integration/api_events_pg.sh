#!/usr/bin/env bash
# GET /v1/events against a real PostgreSQL 15: api_events.sh with EVENTS_PG=1 (its own server,
# stopped on every exit path), plus a lower audit id committing after a higher one.
EVENTS_PG=1 . "$(dirname "$0")/api_events.sh"
