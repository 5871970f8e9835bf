#!/usr/bin/env bash
# Publishes the diamond deployment, starts a run and prints it once it has finished.
# Start Dagy first (README: ./mvnw -pl api-gateway -am spring-boot:run). Needs only curl.
set -euo pipefail
cd "$(dirname "$0")"
API="${DAGY_API:-http://127.0.0.1:8080}"
# the owner key the first local start wrote (docs/security.md); set DAGY_API_KEY to use another
KEY_FILE="${DAGY_API_KEY_FILE:-../../.dagy/api-key}"
KEY="${DAGY_API_KEY:-$(cat "$KEY_FILE")}"
AUTH="Authorization: Bearer $KEY"

curl -sf -X PUT "$API/v1/deployments/diamond" -H "$AUTH" -H 'Content-Type: application/json' --data @deployment.json
echo
run_id=$(curl -sf -X POST "$API/v1/deployments/diamond/runs" -H "$AUTH" -H 'Content-Type: application/json' \
  --data '{"params": {"day": "2026-11-22"}}' | sed -E 's/.*"run_id":"([^"]+)".*/\1/')
echo "run $run_id started; waiting for it to finish"

for _ in $(seq 1 120); do
  run=$(curl -sf -H "$AUTH" "$API/v1/runs/$run_id" || true)
  case "$run" in
    *'"status":"SUCCEEDED","started_at"'*|*'"status":"FAILED","started_at"'*|*'"status":"CANCELLED","started_at"'*)
      echo "$run"
      exit 0 ;;
  esac
  sleep 1
done
echo "the run did not finish within 2 minutes: $run" >&2
exit 1
