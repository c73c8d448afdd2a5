/* Reads JSON documents, one a line, on stdin and prints the RFC 8785 form of
 * each on its own line (tests/js/jcs-crosscheck.mjs compares it with an
 * independent implementation). A line that is not JSON, or has no JCS
 * form, prints "error: " and the reason instead.
 *
 * Lines are read with cJSON's own parser, not cde_json_parse: the other
 * side's numbers are whatever a JavaScript double prints as, integers past
 * 2^53 included, which the strict parser refuses on purpose. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "schemas/base/jcs.h"

int main(void)
{
	char *line = NULL, *text;
	size_t cap = 0, len;
	ssize_t n;
	int status = 0;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		struct cde_errors errs;
		cJSON *doc;
		int r;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		doc = cJSON_ParseWithLength(line, (size_t)n);
		if (!doc) {
			printf("error: not JSON\n");
			continue;
		}
		cde_errors_reset(&errs);
		r = cde_jcs_serialize_errors(doc, &text, &len, &errs);
		cJSON_Delete(doc);
		if (r == -ENOMEM) {
			fprintf(stderr, "jcs_tool: out of memory\n");
			status = 1;
			break;
		}
		if (r < 0) {
			printf("error: %s: %s\n", errs.count ? errs.items[0].pointer : "",
			       errs.count ? errs.items[0].reason : "refused");
			continue;
		}
		fwrite(text, 1, len, stdout);
		putchar('\n');
		free(text);
	}
	free(line);
	return status;
}
