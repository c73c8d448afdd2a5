#pragma once
/* Test data more than one unit test reads. */

/* A sink of each type with every key, and the start of routes: (a first
 * route with a nested filter); a test appends its own routes. */
#define CDE_TEST_SINKS_YAML \
	"sinks:\n" \
	"  - name: ci-listener\n" \
	"    type: tekton\n" \
	"    url: http://el-spark-release.tekton-pipelines.svc:8080\n" \
	"    headers: {X-Cluster: eu-1}\n" \
	"    max_in_flight: 4\n" \
	"  - name: audit-hook\n" \
	"    type: webhook\n" \
	"    url: https://hooks.example.com/cdevents\n" \
	"    mode: structured\n" \
	"    headers:\n" \
	"      X-Team: data platform\n" \
	"      X-Priority: 2\n" \
	"    token_file: /etc/cdeventsd/hook.token\n" \
	"    secret_file: /etc/cdeventsd/hook.whsec\n" \
	"    tls_verify: false\n" \
	"    timeout: 5s\n" \
	"    max_attempts: 20\n" \
	"    max_age: 7d\n" \
	"    max_backoff: 1m\n" \
	"    max_retry_after: 30m\n" \
	"  - name: jsonl\n" \
	"    type: file\n" \
	"    path: /var/log/cdeventsd/events.jsonl\n" \
	"    rotate_size: 10MiB\n" \
	"    rotate_keep: 3\n" \
	"    upgrade_to: \"0.5.1\"\n" \
	"routes:\n" \
	"  - sinks: [ci-listener]\n" \
	"    filter:\n" \
	"      all:\n" \
	"        - prefix: {type: dev.cdevents.artifact.}\n" \
	"        - not: {exact: {/customData/sizing/fits: false}}\n"
