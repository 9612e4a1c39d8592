#!/usr/bin/env sh
# Seed 000's test/ai.sh (SEEDS-SPEC §1.7) without the `jo` dependency: sends the seed's test
# request to a running Switchboard. Usage: scripts/ai.sh [stream]
#   SWITCHBOARD_URL  base URL (default http://localhost:8080)
#   SWITCHBOARD_KEY  gateway key, sent as "Authorization: Bearer <key>" when set
#   MODEL            model name (default gpt-3.5-turbo, as in the seed)
set -eu

stream=false
if [ "${1:-}" = "stream" ]; then stream=true; fi
url="${SWITCHBOARD_URL:-http://localhost:8080}"
model="${MODEL:-gpt-3.5-turbo}"

data=$(cat <<JSON
{
  "model": "$model",
  "messages": [
    {
      "role": "user",
      "content": "Hello!"
    }
  ],
  "stream": $stream
}
JSON
)

if [ -n "${SWITCHBOARD_KEY:-}" ]; then
  exec curl -X POST -H "Content-Type: application/json" -H "Authorization: Bearer $SWITCHBOARD_KEY" \
    -d "$data" "$url/api/v1/chat/completions" -v --no-buffer
fi
exec curl -X POST -H "Content-Type: application/json" -d "$data" "$url/api/v1/chat/completions" -v --no-buffer
