/* The log formatter: logfmt quoting and escaping, JSON lines that always
 * parse, invalid UTF-8 replaced, hostile values that cannot forge a
 * second line, lines cut at the cap and still well formed; request ids. */

#include "tests/unit/helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/http/server.h"
#include "daemon/log.h"

#define TS "2025-01-02T03:04:05.678Z"

static char line[CDE_LOG_LINE_MAX + 1];

static const char *fmt(enum cde_log_format format, const char *req, const char *msg,
		       const struct cde_log_field *f, size_t n)
{
	size_t len = cde_log_format_line(line, sizeof(line), format, CDE_LOG_INFO, TS, req, msg, f, n);

	assert_int_equal(len, strlen(line));
	return line;
}

/* Exactly one newline, at the end, and no other control byte. */
static void assert_one_line(const char *s)
{
	size_t len = strlen(s);

	assert_true(len > 0 && s[len - 1] == '\n');
	for (size_t i = 0; i + 1 < len; i++)
		assert_true((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
}

/* Parses a JSON line with the project's strict parser (which refuses
 * invalid UTF-8 and duplicate keys); returns the object. */
static cJSON *parse_line(const char *s)
{
	struct cde_errors errs;
	cJSON *doc = NULL;

	assert_one_line(s);
	cde_errors_reset(&errs);
	if (cde_json_parse(s, strlen(s) - 1, &doc, &errs) != 0) {
		print_message("not JSON: %s\n", s);
		print_errors(&errs);
		fail();
	}
	assert_true(cJSON_IsObject(doc));
	return doc;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void logfmt_plain_values_go_bare_and_the_message_is_quoted(void **state)
{
	const struct cde_log_field f[] = {
		{ "type", "dev.cdevents.build.started.0.2.0" }, { "seq", "17" }, { "skipped", NULL },
		{ "peer", "127.0.0.1:5000" },
	};

	assert_string_equal(fmt(CDE_LOG_LOGFMT, "abc-1", "event accepted", f, 4),
			    "ts=" TS " level=info msg=\"event accepted\" req=abc-1 "
			    "type=dev.cdevents.build.started.0.2.0 seq=17 peer=127.0.0.1:5000\n");
	assert_string_equal(fmt(CDE_LOG_LOGFMT, NULL, "stopped", NULL, 0),
			    "ts=" TS " level=info msg=\"stopped\"\n");
	assert_string_equal(fmt(CDE_LOG_LOGFMT, "", "stopped", NULL, 0),
			    "ts=" TS " level=info msg=\"stopped\"\n");
	char buf[128];

	cde_log_format_line(buf, sizeof(buf), CDE_LOG_LOGFMT, CDE_LOG_WARN, TS, NULL, "m", NULL, 0);
	assert_string_equal(buf, "ts=" TS " level=warn msg=\"m\"\n");
	cde_log_format_line(buf, sizeof(buf), CDE_LOG_LOGFMT, CDE_LOG_ERROR, TS, NULL, "m", NULL, 0);
	assert_string_equal(buf, "ts=" TS " level=error msg=\"m\"\n");
	cde_log_format_line(buf, sizeof(buf), CDE_LOG_LOGFMT, CDE_LOG_DEBUG, TS, NULL, "m", NULL, 0);
	assert_string_equal(buf, "ts=" TS " level=debug msg=\"m\"\n");
}

static void logfmt_quotes_what_a_parser_would_split_on(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "two words", "\"two words\"" },
		{ "a=b", "\"a=b\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "", "\"\"" },
		{ "tab\there", "\"tab\\there\"" },
		{ "cr\rlf\n", "\"cr\\rlf\\n\"" },
		{ "bell\a del\x7f", "\"bell\\u0007 del\\u007f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "/v1/hooks/build", "/v1/hooks/build" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cde_log_field f[] = { { "v", cases[i].in } };
		char want[256];

		snprintf(want, sizeof(want), "ts=" TS " level=info msg=\"m\" v=%s\n", cases[i].out);
		assert_string_equal(fmt(CDE_LOG_LOGFMT, NULL, "m", f, 1), want);
	}
}

/* A header value that tries to end the line and start a forged one stays
 * inside its own field, in both formats. */
static void a_hostile_value_cannot_forge_a_line(void **state)
{
	const char *evil = "x\nts=2025-01-01T00:00:00Z level=error msg=\"forged\" req=victim\r\n"
			   "{\"ts\":\"x\",\"level\":\"error\",\"msg\":\"forged\"}\xe2\x80\xa8\xc2\x85 end";
	const struct cde_log_field f[] = { { "path", evil }, { "agent", evil } };
	const char *s = fmt(CDE_LOG_LOGFMT, evil, evil, f, 2);
	cJSON *o;

	assert_one_line(s);
	assert_true(strncmp(s, "ts=" TS " level=info msg=\"x\\n", 40) == 0);
	assert_non_null(strstr(s, "msg=\"x\\nts=2025-01-01T00:00:00Z level=error msg=\\\"forged\\\" req=victim\\r\\n"));
	assert_non_null(strstr(s, "\\u2028\\u0085 end\""));

	o = parse_line(fmt(CDE_LOG_JSON, evil, evil, f, 2));
	assert_int_equal(cJSON_GetArraySize(o), 6);
	assert_string_equal(str(o, "level"), "info");
	assert_string_equal(str(o, "msg"), evil);
	assert_string_equal(str(o, "req"), evil);
	assert_string_equal(str(o, "path"), evil);
	assert_string_equal(str(o, "agent"), evil);
	cJSON_Delete(o);
}

static void json_lines_are_objects_with_ts_level_msg_then_fields(void **state)
{
	const struct cde_log_field f[] = {
		{ "type", "dev.cdevents.build.started.0.2.0" }, { "skipped", NULL },
		{ "quote", "\"" }, { "backslash", "\\" }, { "controls", "\x01\x1f\x7f\b\f\t\n\r" },
		{ "unicode", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
	};
	const char *s = fmt(CDE_LOG_JSON, "r1", "event \"accepted\"", f, 6);
	cJSON *o;

	const char *prefix = "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"event \\\"accepted\\\"\","
			     "\"req\":\"r1\",\"type\":";

	assert_true(strncmp(s, prefix, strlen(prefix)) == 0);
	o = parse_line(s);
	assert_int_equal(cJSON_GetArraySize(o), 9);
	assert_string_equal(str(o, "ts"), TS);
	assert_string_equal(str(o, "msg"), "event \"accepted\"");
	assert_string_equal(str(o, "quote"), "\"");
	assert_string_equal(str(o, "backslash"), "\\");
	assert_string_equal(str(o, "controls"), "\x01\x1f\x7f\b\f\t\n\r");
	assert_string_equal(str(o, "unicode"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "skipped"));
	cJSON_Delete(o);
	/* No request: no "req" key at all. */
	o = parse_line(fmt(CDE_LOG_JSON, NULL, "stopped", NULL, 0));
	assert_int_equal(cJSON_GetArraySize(o), 3);
	cJSON_Delete(o);
}

/* Bytes that are not UTF-8 become U+FFFD; valid sequences pass. */
static void invalid_utf8_is_replaced(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xff", "\xef\xbf\xbd" },
		{ "a\x80z", "a\xef\xbf\xbdz" },				/* stray continuation */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong '/' */
		{ "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* a surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },		/* cut short at the end */
		{ "\xe2\x82z", "\xef\xbf\xbd\xef\xbf\xbdz" },
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
		{ "\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cde_log_field f[] = { { "v", cases[i].in } };
		cJSON *o = parse_line(fmt(CDE_LOG_JSON, NULL, cases[i].in, f, 1));
		char want[128];

		assert_string_equal(str(o, "v"), cases[i].out);
		assert_string_equal(str(o, "msg"), cases[i].out);
		cJSON_Delete(o);
		snprintf(want, sizeof(want), "ts=" TS " level=info msg=\"m\" v=\"%s\"\n", cases[i].out);
		assert_string_equal(fmt(CDE_LOG_LOGFMT, NULL, "m", f, 1), want);
	}
}

static void keys_are_sanitized_and_cannot_shadow_the_fixed_ones(void **state)
{
	const struct cde_log_field f[] = {
		{ "msg", "shadow" }, { "level", "error" }, { "ts", "0" }, { "req", "r9" },
		{ "bad key=\"x\"\n", "v" }, { "", "empty" }, { NULL, "null" },
	};
	cJSON *o = parse_line(fmt(CDE_LOG_JSON, "r1", "real", f, 5));

	assert_string_equal(str(o, "msg"), "real");
	assert_string_equal(str(o, "level"), "info");
	assert_string_equal(str(o, "req"), "r1");
	assert_string_equal(str(o, "_msg"), "shadow");
	assert_string_equal(str(o, "_level"), "error");
	assert_string_equal(str(o, "_ts"), "0");
	assert_string_equal(str(o, "_req"), "r9");
	assert_string_equal(str(o, "bad_key__x__"), "v");
	cJSON_Delete(o);
	o = parse_line(fmt(CDE_LOG_JSON, NULL, "m", f + 5, 1));
	assert_string_equal(str(o, "_"), "empty");
	cJSON_Delete(o);
	assert_string_equal(fmt(CDE_LOG_LOGFMT, NULL, "m", f + 4, 1), "ts=" TS " level=info msg=\"m\" bad_key__x__=v\n");
}

/* A line over the cap is cut inside a value, marked, and still closed:
 * one line, valid JSON, quotes balanced. */
static void long_lines_are_cut_and_stay_well_formed(void **state)
{
	static char big[3 * CDE_LOG_LINE_MAX];
	const struct cde_log_field f[] = { { "a", "short" }, { "big", big }, { "after", "dropped" } };
	const char *fill[] = { "x", "\"", "\n", "\xe2\x82\xac", "\xff", "a b" };

	for (size_t k = 0; k < sizeof(fill) / sizeof(fill[0]); k++) {
		size_t n = strlen(fill[k]), len;
		cJSON *o;

		big[0] = '\0';
		for (size_t i = 0; i + n < sizeof(big); i += n)
			memcpy(big + i, fill[k], n + 1);
		o = parse_line(fmt(CDE_LOG_JSON, "r", "m", f, 3));
		len = strlen(line);
		assert_true(len <= CDE_LOG_LINE_MAX && len > CDE_LOG_LINE_MAX - 16);
		assert_string_equal(str(o, "a"), "short");
		assert_true(strlen(str(o, "big")) > 3);
		assert_string_equal(str(o, "big") + strlen(str(o, "big")) - 3, "...");
		assert_null(cJSON_GetObjectItemCaseSensitive(o, "after"));
		cJSON_Delete(o);

		fmt(CDE_LOG_LOGFMT, "r", "m", f, 3);
		assert_one_line(line);
		len = strlen(line);
		assert_true(len <= CDE_LOG_LINE_MAX);
		assert_null(strstr(line, "after="));
		/* A quoted value is closed: an even number of unescaped quotes. */
		size_t quotes = 0;

		for (size_t i = 0; i < len; i++) {
			if (line[i] == '\\')
				i++;
			else if (line[i] == '"')
				quotes++;
		}
		assert_int_equal(quotes % 2, 0);
		assert_true(strstr(line, "...") != NULL);
	}
	/* The message too. */
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cJSON *o = parse_line(fmt(CDE_LOG_JSON, "r", big, f, 1));

	assert_null(cJSON_GetObjectItemCaseSensitive(o, "req"));
	cJSON_Delete(o);
	/* A small buffer works the same way. */
	char small[CDE_LOG_LINE_MIN];
	size_t len = cde_log_format_line(small, sizeof(small), CDE_LOG_JSON, CDE_LOG_INFO, TS, "r",
					 "a message longer than what is left, since the fixed part of the line takes about sixty",
					 NULL, 0);

	assert_true(len < sizeof(small));
	cJSON_Delete(parse_line(small));
	assert_int_equal(cde_log_format_line(small, CDE_LOG_LINE_MIN - 1, CDE_LOG_JSON, CDE_LOG_INFO, TS, "r",
					     "m", NULL, 0), 0);
	assert_string_equal(small, "");
	assert_int_equal(cde_log_format_line(small, 0, CDE_LOG_JSON, CDE_LOG_INFO, TS, "r", "m", NULL, 0), 0);
}

/* Wherever the cut falls (in a key, at a value's first byte, inside an
 * escape or a multi-byte character), the line is whole. */
static void every_cut_point_gives_a_whole_line(void **state)
{
	const struct cde_log_field f[] = {
		{ "type", "dev.cdevents.build.started.0.2.0" }, { "quoted", "a \"b\" c\n" },
		{ "euro", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" }, { "bad", "\xff\xfe" }, { "k", "" },
		{ "plain", "value" }, { "last", "end" },
	};
	char buf[512];

	for (size_t size = 128; size < sizeof(buf); size++) {
		size_t len;

		memset(buf, 0x55, sizeof(buf));
		len = cde_log_format_line(buf, size, CDE_LOG_JSON, CDE_LOG_INFO, TS, "r", "msg", f, 7);
		assert_true(len < size && buf[len] == '\0' && (unsigned char)buf[size] == 0x55);
		cJSON_Delete(parse_line(buf));
		len = cde_log_format_line(buf, size, CDE_LOG_LOGFMT, CDE_LOG_INFO, TS, "r", "msg", f, 7);
		assert_true(len < size && buf[len] == '\0');
		assert_one_line(buf);
		size_t quotes = 0;

		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\\')
				i++;
			else if (buf[i] == '"')
				quotes++;
		}
		assert_int_equal(quotes % 2, 0);
		assert_true(buf[len - 2] != '=');
	}
}

/* cde_log_fields writes one line on stderr, in the format set, when the
 * level allows it; CDE_LOG_KV builds the field list. */
static void lines_reach_stderr_in_the_format_set_and_levels_filter(void **state)
{
	int fds[2], saved = dup(STDERR_FILENO);
	char got[2 * CDE_LOG_LINE_MAX];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	cde_log_set_format(CDE_LOG_JSON);
	cde_log_set_level(CDE_LOG_WARN);
	assert_false(cde_log_enabled(CDE_LOG_INFO));
	assert_true(cde_log_enabled(CDE_LOG_WARN));
	CDE_LOG_KV(CDE_LOG_INFO, "r1", "hidden", { "k", "v" });
	cde_log(CDE_LOG_DEBUG, "hidden %d", 1);
	CDE_LOG_KV(CDE_LOG_WARN, "r2", "shown", { "k", "v" }, { "n", NULL }, { "status", "401" });
	cde_log_set_format(CDE_LOG_LOGFMT);
	cde_log(CDE_LOG_ERROR, "plain %s", "text");
	cde_log_set_level(CDE_LOG_INFO);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	assert_true(n > 0);
	got[n] = '\0';
	char *nl = strchr(got, '\n');

	assert_non_null(nl);
	nl[1] = '\0';
	cJSON *o = parse_line(got);

	assert_string_equal(str(o, "msg"), "shown");
	assert_string_equal(str(o, "level"), "warn");
	assert_string_equal(str(o, "req"), "r2");
	assert_string_equal(str(o, "status"), "401");
	assert_int_equal(cJSON_GetArraySize(o), 6);
	cJSON_Delete(o);
	assert_non_null(strstr(nl + 2, " level=error msg=\"plain text\"\n"));
	assert_null(strstr(nl + 2, "hidden"));
}

/* Reads what the pipe holds now (non-blocking) into @buf. */
static size_t drain(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

static void a_loop_turns_lines_are_written_together_at_its_end(void **state)
{
	struct event_base *base = event_base_new();
	int fds[2], saved = dup(STDERR_FILENO);
	char got[4 * PIPE_BUF];
	size_t n;

	assert_non_null(base);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	cde_log_set_format(CDE_LOG_LOGFMT);
	assert_int_equal(cde_log_batch_start(base), 0);
	cde_log(CDE_LOG_INFO, "first");
	cde_log(CDE_LOG_INFO, "second");
	assert_int_equal(drain(fds[0], got, sizeof(got)), 0); /* kept until the turn ends */
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	n = drain(fds[0], got, sizeof(got));
	assert_non_null(strstr(got, "msg=\"first\"\n"));
	assert_true(strstr(got, "msg=\"first\"") < strstr(got, "msg=\"second\""));
	/* More than a pipe's atomic write in one turn: written as the buffer
	 * fills, in whole lines, the rest at the end of the turn. */
	for (int i = 0; i < 100; i++)
		cde_log(CDE_LOG_INFO, "line %03d with some padding to fill the buffer sooner", i);
	n = drain(fds[0], got, sizeof(got));
	assert_true(n >= PIPE_BUF / 2 && got[n - 1] == '\n');
	assert_null(strstr(got, "msg=\"line 099"));
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	n += drain(fds[0], got + n, sizeof(got) - n);
	for (int i = 0; i < 100; i++) {
		char want[48];

		snprintf(want, sizeof(want), "msg=\"line %03d with", i);
		assert_non_null(strstr(got, want));
	}
	/* Stopped: a line is written at once again. */
	cde_log_batch_stop();
	cde_log(CDE_LOG_INFO, "after");
	drain(fds[0], got, sizeof(got));
	assert_non_null(strstr(got, "msg=\"after\"\n"));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
}

static void request_ids_are_sane_tokens(void **state)
{
	char max[CDE_HTTP_REQUEST_ID_MAX + 2];

	assert_true(cde_http_request_id_valid("abc-DEF_0.9"));
	assert_true(cde_http_request_id_valid("a"));
	memset(max, 'a', sizeof(max));
	max[CDE_HTTP_REQUEST_ID_MAX] = '\0';
	assert_true(cde_http_request_id_valid(max));
	max[CDE_HTTP_REQUEST_ID_MAX] = 'a';
	max[CDE_HTTP_REQUEST_ID_MAX + 1] = '\0';
	assert_false(cde_http_request_id_valid(max));
	assert_false(cde_http_request_id_valid(NULL));
	assert_false(cde_http_request_id_valid(""));
	assert_false(cde_http_request_id_valid("a b"));
	assert_false(cde_http_request_id_valid("a=b"));
	assert_false(cde_http_request_id_valid("a\nlevel=error"));
	assert_false(cde_http_request_id_valid("\"q\""));
	assert_false(cde_http_request_id_valid("caf\xc3\xa9"));
	assert_false(cde_http_request_id_valid("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(logfmt_plain_values_go_bare_and_the_message_is_quoted),
		cmocka_unit_test(logfmt_quotes_what_a_parser_would_split_on),
		cmocka_unit_test(a_hostile_value_cannot_forge_a_line),
		cmocka_unit_test(json_lines_are_objects_with_ts_level_msg_then_fields),
		cmocka_unit_test(invalid_utf8_is_replaced),
		cmocka_unit_test(keys_are_sanitized_and_cannot_shadow_the_fixed_ones),
		cmocka_unit_test(long_lines_are_cut_and_stay_well_formed),
		cmocka_unit_test(every_cut_point_gives_a_whole_line),
		cmocka_unit_test(lines_reach_stderr_in_the_format_set_and_levels_filter),
		cmocka_unit_test(a_loop_turns_lines_are_written_together_at_its_end),
		cmocka_unit_test(request_ids_are_sane_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
