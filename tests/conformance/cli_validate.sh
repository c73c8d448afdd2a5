#!/usr/bin/env bash
# cdevctl validate, as a user runs it: on the official conformance
# examples, on JSON Lines with bad events, on stdin, and on bad usage.
set -u
cdevctl=$1
spec=${CDE_SPEC_DIR:?}
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() { # expect NAME WANT_STATUS WANT_OUTPUT_PATTERN COMMAND...
	local name=$1 want=$2 pattern=$3
	shift 3
	local out status
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
		echo "FAIL $name: exit $status (want $want), output:"
		echo "$out" | head -20
		fails=$((fails + 1))
	else
		echo "ok   $name"
	fi
}

# Every official example names a schemaUri nobody publishes: refused by
# default (as by the daemon), accepted with --accept-unknown-schema-uri.
expect "official example: unknown schemaUri refused by default" 1 \
	'/context/schemaUri: schemaUri https://myorg.com/schema/custom is not loaded' \
	"$cdevctl" validate "$spec"/v0.5.1/conformance/build_queued.json
expect "v0.5.1 conformance: 45 passed" 0 '^45 passed, 0 failed$' \
	"$cdevctl" validate --accept-unknown-schema-uri "$spec"/v0.5.1/conformance/*.json
expect "v0.4.1 conformance: 45 passed" 0 '^45 passed, 0 failed$' \
	"$cdevctl" validate --accept-unknown-schema-uri "$spec"/v0.4.1/conformance/*.json
expect "v0.3.0 conformance: 39 passed" 0 '^39 passed, 0 failed$' \
	"$cdevctl" validate --accept-unknown-schema-uri "$spec"/v0.3.0/conformance/*.json

# JSON Lines: one line per invalid event naming FILE:LINE and the pointer.
good=$(tr -d '\n' <"$spec"/v0.5.1/conformance/build_queued.json)
{
	echo "$good"
	echo "$good" | sed 's/"specversion": *"0.5.1"/"specversion": 5/'
	echo
	echo '{"context": {"specversion": "0.5.1"'
	echo "$good" | sed 's/"id": *"mySubject123"/"id": ""/'
} >"$tmp/events.jsonl"
expect "JSON Lines: bad lines named" 1 'events.jsonl:2: .*/context/specversion: must be a string' \
	"$cdevctl" validate --accept-unknown-schema-uri "$tmp/events.jsonl"
expect "JSON Lines: unparsable line named" 1 'events.jsonl:4: /: invalid JSON' \
	"$cdevctl" validate --accept-unknown-schema-uri "$tmp/events.jsonl"
expect "JSON Lines: empty subject id" 1 'events.jsonl:5: .*/subject/id: must not be empty' \
	"$cdevctl" validate --accept-unknown-schema-uri "$tmp/events.jsonl"
expect "JSON Lines: summary" 1 '^1 passed, 3 failed$' "$cdevctl" validate --accept-unknown-schema-uri "$tmp/events.jsonl"

# A JSON array, and standard input.
echo "[$good, {\"context\": {}}]" >"$tmp/array.json"
expect "array: element named" 1 'array.json\[1\]: /context/specversion: required' \
	"$cdevctl" validate --accept-unknown-schema-uri "$tmp/array.json"
expect "stdin" 0 '^1 passed, 0 failed$' sh -c "echo '$good' | '$cdevctl' validate --accept-unknown-schema-uri -"

# Machine-readable output.
expect "--json" 1 '"input":"[^"]*events.jsonl:5","valid":false,"specVersion":"0.5.1".*"pointer":"/subject/id"' \
	"$cdevctl" validate --accept-unknown-schema-uri --json "$tmp/events.jsonl"

# --schemas: an event's schemaUri names a schema of the directory, or the
# event is refused (unless --accept-unknown-schema-uri), as the daemon does.
mkdir "$tmp/schemas"
cat >"$tmp/schemas/prod.json" <<'JSON'
{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://myorg.com/schema/custom",
 "properties": {"subject": {"properties": {"content": {"properties": {"environment":
   {"properties": {"id": {"pattern": "^prod-"}}}}}}}}}
JSON
deployed=$spec/v0.5.1/conformance/service_deployed.json
expect "--schemas: a violation names the pointer and the schema" 1 \
	'/subject/content/environment/id: schema https://myorg.com/schema/custom: ' \
	"$cdevctl" validate --schemas "$tmp/schemas" "$deployed"
sed 's/"test123"/"prod-1"/' "$deployed" >"$tmp/prod.json"
expect "--schemas: a conforming event passes" 0 '^1 passed, 0 failed$' \
	"$cdevctl" validate --schemas "$tmp/schemas" "$tmp/prod.json"
expect "--schemas: an unknown schemaUri is refused" 1 \
	'schemaUri https://myorg.com/schema/mytool is not loaded: add it under schemas.dirs' \
	"$cdevctl" validate --schemas "$tmp/schemas" "$spec"/v0.5.1/custom/conformance.json
expect "--accept-unknown-schema-uri: the custom example passes" 0 '^1 passed, 0 failed$' \
	"$cdevctl" validate --schemas "$tmp/schemas" --accept-unknown-schema-uri "$spec"/v0.5.1/custom/conformance.json
echo '{"$id": "https://x.example/bad", "properties": {"a": {"type": 12}}}' >"$tmp/schemas/bad.json"
expect "--schemas: a broken schema names the file and the pointer" 2 "$tmp/schemas/bad.json: /properties/a/type" \
	"$cdevctl" validate --schemas "$tmp/schemas" "$tmp/prod.json"

# Errors of use are exit 2 with a message.
expect "missing file" 2 'nope.json: No such file or directory' "$cdevctl" validate "$tmp/nope.json"
expect "no file" 2 'no FILE given' "$cdevctl" validate
expect "unknown option" 2 'usage: cdevctl validate' "$cdevctl" validate --frobnicate x
expect "bad catalog" 2 'cannot load the catalog|catalog: .*No such file' \
	"$cdevctl" validate --catalog "$tmp/none" "$tmp/array.json"
expect "unknown command" 2 "unknown command 'frob'" "$cdevctl" frob
expect "example of a type" 0 '"type":[[:space:]]+"dev.cdevents.service.deployed.0.3.0"' \
	"$cdevctl" example service.deployed
expect "example of an unknown type" 2 'unknown event type' "$cdevctl" example service.exploded


[ "$fails" -eq 0 ]
