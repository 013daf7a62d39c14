#!/usr/bin/env bash
# One case through every step against a running server (`make run`), with curl.
# Usage: scripts/demo_flow.sh [BASE_URL] [OUT_DIR]
set -euo pipefail
B=${1:-http://127.0.0.1:8000}
OUT=${2:-.}
PW=${TAXASSIST_DEMO_PASSWORD:-taxassist-demo}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
post() { curl -sS --fail-with-body "$@"; }
token() {
  post "$B/auth/token" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$PW\"}" | json '["access_token"]'
}

curl -sS --fail-with-body "$B/health"; echo
OFFICER="Authorization: Bearer $(token officer)"

CASE=$(post "$B/cases" -H "$OFFICER" -H 'content-type: application/json' -d '{
  "taxpayer": {"name": "示例商贸有限公司", "id_number": "91150100MA0N7Y2K37", "kind": "organisation",
               "address": "内蒙古自治区呼和浩特市示例区示例路1号", "legal_representative": "张示例"},
  "violation": "late_filing", "violation_date": "2025-04-15", "days_overdue": 45,
  "tax_unpaid": "12000.00", "corrected_in_time": true, "harm": "minor",
  "facts": "该公司2025年3月增值税纳税申报逾期45日，经责令限期改正后于2025年5月30日补办申报。",
  "evidence": ["纳税申报记录", "责令限期改正通知书及送达回证"]}' | json '["id"]')
echo "case $CASE opened"

# The upload answers 202 with a transcription job; follow it as a client would (SSE, then GET).
JOB=$(post "$B/cases/$CASE/recordings" -H "$OFFICER" -F "file=@$HERE/tests/fixtures/interview_zh.wav" \
  | json '["job"]["id"]')
curl -sS -N --fail-with-body --max-time 600 "$B/jobs/$JOB/events" -H "$OFFICER" | grep '^event:' | sort | uniq -c
STATUS=$(post "$B/jobs/$JOB" -H "$OFFICER" | json '["status"]')
[ "$STATUS" = succeeded ] || { echo "transcription job $JOB: $STATUS" >&2; exit 1; }
REC=$(post "$B/jobs/$JOB" -H "$OFFICER" | json '["recording_id"]')
post "$B/recordings/$REC" -H "$OFFICER" | json '["segments"]' | head -c 300; echo
for step in entities retrieval discretion; do
  post -X POST "$B/cases/$CASE/$step" -H "$OFFICER" | json '["step"]'
done
post "$B/cases/$CASE/results/discretion" -H "$OFFICER" | json '["payload"]["explanation"]'

for type in penalty_notice penalty_decision; do
  DOC=$(post "$B/cases/$CASE/documents" -H "$OFFICER" -H 'content-type: application/json' \
    -d "{\"doc_type\":\"$type\"}" | json '["id"]')
  curl -sS --fail-with-body -o "$OUT/$type.docx" "$B/documents/$DOC/file" -H "$OFFICER"
  echo "downloaded $OUT/$type.docx ($(wc -c < "$OUT/$type.docx") bytes)"
done

REVIEWER="Authorization: Bearer $(token reviewer)"
APPROVER="Authorization: Bearer $(token approver)"
post "$B/cases/$CASE/review" -H "$REVIEWER" -H 'content-type: application/json' \
  -d '{"result":"同意","opinion":"事实清楚，证据确凿，适用依据正确，程序合法。"}' | json '["status"]'
post "$B/cases/$CASE/approve" -H "$APPROVER" -H 'content-type: application/json' \
  -d '{"opinion":"同意"}' | json '["status"]'
post "$B/cases/$CASE/events" -H "$OFFICER" \
  | python3 -c "import json,sys; print([e['action'] for e in json.load(sys.stdin)])"
