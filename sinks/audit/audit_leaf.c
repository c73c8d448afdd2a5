/* Leaves hashed ahead of their seq (audit_leaf.h): the entry made with
 * seq 0, its last two bytes ("0}") cut, hashed with the leaf's 0x00 prefix;
 * finishing appends the seq's digits and "}", which is how JCS writes an
 * integer below 2^53 and an object's end.
 *
 * An entry the writer correlates is a template: its JCS text made with a
 * marker string as context.chainId and another appended to context.links
 * (created if absent), then cut at the markers. The writer hashes the
 * pieces with the chainId's JCS and the added link's (or nothing, its
 * comma or the whole links member gone) in the holes. JCS is made of its
 * parts, so these are the bytes of the whole; the markers hold a random
 * nonce and must each be found once, so no user text is taken for one. */

#include "sinks/audit/audit_leaf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "events/correlate.h"
#include "events/event.h"
#include "schemas/base/jcs.h"
#include "schemas/base/sha256.h"
#include "sinks/audit/audit_tree.h"
#include "sinks/audit/journal.h"

/* A template's text past its head: [mid, add_at) hole [add_end, len) when
 * a link was added; [mid, drop_at) [drop_end, len) when none was. */
struct hole_cuts {
	size_t mid, add_at, add_end, drop_at, drop_end, len;
};

struct cde_audit_leaf_ahead {
	EVP_MD_CTX *ctx;	/* SHA-256 of 0x00 || the entry up to its seq, or (a template) up to the chainId */
	char *text;		/* a template's entry text up to its seq; NULL: not a template */
	struct hole_cuts cut;
	int links;		/* context.links' elements when the template was made; -1: no links */
};

/* Where context.links' last element sits in an entry: entry, event,
 * context, links, each a container. */
#define LINK_DEPTH 4

static const char SEQ_TAIL[] = ",\"seq\":0}";

int cde_audit_leaf_ahead_new(const struct cde_audit_row *row, struct cde_audit_leaf_ahead **ret)
{
	struct cde_audit_row zero = *row;
	struct cde_audit_leaf_ahead *a;
	const uint8_t prefix = 0x00;
	size_t len = 0, tail = sizeof(SEQ_TAIL) - 1;
	char *entry = NULL;
	int r;

	zero.seq = 0;
	r = cde_audit_tree_entry(&zero, &entry, &len);
	if (r < 0)
		return r;
	/* "seq" sorts last of the entry's keys; anything else is a bug. */
	if (len < tail || memcmp(entry + len - tail, SEQ_TAIL, tail) != 0) {
		free(entry);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (a)
		a->ctx = EVP_MD_CTX_new();
	if (!a || !a->ctx || !EVP_DigestInit_ex(a->ctx, cde_sha256_md(), NULL) ||
	    !EVP_DigestUpdate(a->ctx, &prefix, 1) || !EVP_DigestUpdate(a->ctx, entry, len - 2)) {
		cde_audit_leaf_ahead_free(a);
		free(entry);
		return -ENOMEM;
	}
	free(entry);
	*ret = a;
	return 0;
}

/* Ends the leaf in @scratch (its state so far) with the seq's digits. */
static int finish_seq(EVP_MD_CTX *scratch, uint64_t seq, uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	/* The digits written backwards from the '}', without stdio: this
	 * runs on the writer thread for every event. */
	char digits[24], *p = digits + sizeof(digits);
	unsigned len = 0;

	*--p = '}';
	do
		*--p = (char)('0' + seq % 10);
	while ((seq /= 10) != 0);
	if (!EVP_DigestUpdate(scratch, p, (size_t)(digits + sizeof(digits) - p)) ||
	    !EVP_DigestFinal_ex(scratch, leaf, &len) ||
	    len != CDE_TLOG_HASH_LEN)
		return -ENOMEM;
	return 0;
}

int cde_audit_leaf_ahead_finish(const struct cde_audit_leaf_ahead *a, uint64_t seq, EVP_MD_CTX *scratch,
				uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	if (a->text)
		return -EINVAL;
	/* Past 2^53 JCS writes the seq as a double would round it. */
	if (seq > (1ULL << 53))
		return -ERANGE;
	if (!EVP_MD_CTX_copy_ex(scratch, a->ctx))
		return -ENOMEM;
	return finish_seq(scratch, seq, leaf);
}

/* The markers, quoted as JCS writes them: chainId's, then the link's. */
static char marks[2][64];
static pthread_once_t marks_once = PTHREAD_ONCE_INIT;
static const char LINKS_OPEN[] = ",\"links\":[";

static void make_marks(void)
{
	unsigned long long nonce[2] = { 0, 0 };

	/* Without randomness a marker is still looked for once only: a text
	 * holding one makes no template, never a wrong leaf. */
	if (getrandom(nonce, sizeof(nonce), GRND_NONBLOCK) != (ssize_t)sizeof(nonce)) {
		nonce[0] = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
		nonce[1] = (unsigned long long)clock();
	}
	snprintf(marks[0], sizeof(marks[0]), "\"cde-hole-chainId-%016llx%016llx\"", nonce[0], nonce[1]);
	snprintf(marks[1], sizeof(marks[1]), "\"cde-hole-link-%016llx%016llx\"", nonce[0], nonce[1]);
}

/* A marker's string without its quotes, in a new item. */
static cJSON *marker(int which)
{
	char text[sizeof(marks[0])];
	size_t n = strlen(marks[which]);

	memcpy(text, marks[which] + 1, n - 2);
	text[n - 2] = '\0';
	return cJSON_CreateString(text);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Appends to @parent a reference to @item (an object's member or an
 * array's element), named as @item is: deleting it leaves @item's
 * children, text and name alone. cJSON's own would copy the name, and
 * lose the reference when that copy fails. */
static bool add_borrowed(cJSON *parent, const cJSON *item)
{
	cJSON *ref = parent ? cJSON_CreateNull() : NULL;

	if (!ref)
		return false;
	*ref = *item;
	ref->next = ref->prev = NULL;
	ref->type |= cJSON_IsReference | cJSON_StringIsConst;
	return cJSON_AddItemToArray(parent, ref);
}

/* @row's entry with @event as correlation leaves it, markers in the two
 * places it fills: new objects on the way to them (entry, event, context,
 * links), references to @event's own items everywhere else, so nothing
 * of it is copied or changed. *@links_n: links' elements, -1 for none. */
static int marked_entry(const struct cde_audit_row *row, const cJSON *event, cJSON **ret, int *links_n)
{
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(event, "context");
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(context, "links"), *m;
	cJSON *entry, *copy, *ctx_copy, *links_copy, *chain = marker(0), *link = marker(1);
	bool ok;
	int n = 0;

	if (!cJSON_IsObject(event) || !cJSON_IsObject(context) || (links && !cJSON_IsArray(links)) ||
	    cJSON_GetObjectItemCaseSensitive(context, "chainId")) {
		cJSON_Delete(chain);
		cJSON_Delete(link);
		return -EINVAL;
	}
	entry = cJSON_CreateObject();
	copy = cJSON_AddObjectToObject(entry, "event");
	ctx_copy = cJSON_AddObjectToObject(copy, "context");
	links_copy = cJSON_AddArrayToObject(ctx_copy, "links");
	ok = links_copy && chain && link && cJSON_AddStringToObject(entry, "peer", or_empty(row->peer)) &&
	     cJSON_AddStringToObject(entry, "principal", or_empty(row->principal)) &&
	     cJSON_AddStringToObject(entry, "receivedAt", or_empty(row->received_at)) &&
	     cJSON_AddNumberToObject(entry, "seq", 0);
	/* A name twice stays twice: JCS refuses the copy as the event. */
	cJSON_ArrayForEach(m, event)
		ok = ok && (m == context || add_borrowed(copy, m));
	cJSON_ArrayForEach(m, context)
		ok = ok && (m == links || add_borrowed(ctx_copy, m));
	cJSON_ArrayForEach(m, links) {
		ok = ok && add_borrowed(links_copy, m);
		n++;
	}
	ok = ok && cJSON_AddItemToObject(ctx_copy, "chainId", chain) && (chain = NULL, true) &&
	     cJSON_AddItemToArray(links_copy, link) && (link = NULL, true);
	cJSON_Delete(chain);
	cJSON_Delete(link);
	if (!ok) {
		cJSON_Delete(entry);
		return -ENOMEM;
	}
	*ret = entry;
	*links_n = links ? n : -1;
	return 0;
}

/* @needle's place in @text when it is there once, else NULL. */
static const char *find_once(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	return p && !strstr(p + 1, needle) ? p : NULL;
}

/* Cuts the marked entry @text: *@head bytes before the chainId's hole,
 * then @cut. The link's hole loses its comma when it had one before it
 * (links had elements), its whole member when links was made for it. */
static int cut_holes(const char *text, size_t len, int links, size_t *head, struct hole_cuts *cut)
{
	size_t tail = sizeof(SEQ_TAIL) - 1, ql = strlen(marks[1]), open = sizeof(LINKS_OPEN) - 1, at;
	const char *c = find_once(text, marks[0]), *l = find_once(text, marks[1]);

	if (len < tail || memcmp(text + len - tail, SEQ_TAIL, tail) != 0 || !c || !l || l == text)
		return -EINVAL;
	at = (size_t)(l - text);
	*cut = (struct hole_cuts){
		.mid = (size_t)(c - text) + strlen(marks[0]), .add_at = at, .add_end = at + ql,
		.drop_at = at, .drop_end = at + ql, .len = len - 2,
	};
	if (links > 0 && text[at - 1] == ',')
		cut->drop_at = at - 1;
	else if (links < 0 && at >= open && memcmp(text + at - open, LINKS_OPEN, open) == 0 && text[at + ql] == ']')
		*cut = (struct hole_cuts){ .mid = cut->mid, .add_at = at, .add_end = at + ql, .drop_at = at - open,
					   .drop_end = at + ql + 1, .len = len - 2 };
	else if (links != 0 || text[at - 1] != '[' || text[at + ql] != ']')
		return -EINVAL;
	if (cut->mid > cut->drop_at || cut->drop_end > cut->len)
		return -EINVAL;
	*head = (size_t)(c - text);
	return 0;
}

int cde_audit_leaf_ahead_new_template(const struct cde_audit_row *row, const cJSON *event,
				      struct cde_audit_leaf_ahead **ret)
{
	const uint8_t prefix = 0x00;
	struct cde_audit_leaf_ahead *a;
	struct hole_cuts cut;
	cJSON *entry = NULL;
	char *text = NULL;
	size_t len = 0, head = 0;
	int links = -1, r;

	pthread_once(&marks_once, make_marks);
	r = marked_entry(row, event, &entry, &links);
	if (r == 0)
		r = cde_jcs_serialize_as_printed(entry, &text, &len);
	cJSON_Delete(entry);
	if (r == 0)
		r = cut_holes(text, len, links, &head, &cut);
	if (r < 0) {
		free(text);
		return r;
	}
	a = calloc(1, sizeof(*a));
	if (a)
		a->ctx = EVP_MD_CTX_new();
	if (!a || !a->ctx || !EVP_DigestInit_ex(a->ctx, cde_sha256_md(), NULL) ||
	    !EVP_DigestUpdate(a->ctx, &prefix, 1) || !EVP_DigestUpdate(a->ctx, text, head)) {
		cde_audit_leaf_ahead_free(a);
		free(text);
		return -ENOMEM;
	}
	a->text = text;
	a->cut = cut;
	a->links = links;
	*ret = a;
	return 0;
}

/* The template's text from the chainId's hole on, into @md, with @link
 * (JCS, NULL: none added) in the link's hole. */
static bool hash_rest(EVP_MD_CTX *md, const struct cde_audit_leaf_ahead *a, const char *link, size_t link_len)
{
	const struct hole_cuts *c = &a->cut;

	if (!link)
		return EVP_DigestUpdate(md, a->text + c->mid, c->drop_at - c->mid) &&
		       EVP_DigestUpdate(md, a->text + c->drop_end, c->len - c->drop_end);
	return EVP_DigestUpdate(md, a->text + c->mid, c->add_at - c->mid) && EVP_DigestUpdate(md, link, link_len) &&
	       EVP_DigestUpdate(md, a->text + c->add_end, c->len - c->add_end);
}

/* The chainId as JCS writes it, into @md: quoted as it is when it is
 * printable ASCII with nothing to escape (a UUID, the ids the writer
 * makes), else through the serializer. On the writer, for every hook. */
static int hash_chain_id(EVP_MD_CTX *md, const cJSON *chain)
{
	const char *id = chain->valuestring;
	size_t len = 0;
	char *text = NULL;
	int r;

	while (id[len] >= 0x20 && id[len] < 0x7f && id[len] != '"' && id[len] != '\\')
		len++;
	if (!id[len])
		return EVP_DigestUpdate(md, "\"", 1) && EVP_DigestUpdate(md, id, len) && EVP_DigestUpdate(md, "\"", 1)
			       ? 0 : -ENOMEM;
	r = cde_jcs_serialize_as_printed(chain, &text, &len);
	if (r == 0 && !EVP_DigestUpdate(md, text, len))
		r = -ENOMEM;
	free(text);
	return r;
}

int cde_audit_leaf_ahead_finish_doc(const struct cde_audit_leaf_ahead *a, const cJSON *event, uint64_t seq,
				    EVP_MD_CTX *scratch, uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(event, "context");
	const cJSON *chain = cJSON_GetObjectItemCaseSensitive(context, "chainId");
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(context, "links"), *link = NULL;
	int n = !links ? -1 : cJSON_IsArray(links) ? cJSON_GetArraySize(links) : -2;
	char *link_text = NULL;
	size_t link_len = 0;
	int r;

	if (!a->text || !cJSON_IsObject(event) || !cJSON_IsString(chain))
		return -EINVAL;
	/* Links made for the link holds it alone. */
	if (n > 0 && n == (a->links < 0 ? 0 : a->links) + 1)
		link = cJSON_GetArrayItem(links, n - 1);
	else if (n != a->links)
		return -EINVAL;
	if (seq > (1ULL << 53))
		return -ERANGE;
	/* Checked at its depth in the entry: the link may make the event
	 * deeper than its template was. */
	r = link ? cde_jcs_serialize_as_printed_at(link, LINK_DEPTH, &link_text, &link_len) : 0;
	if (r == 0 && !EVP_MD_CTX_copy_ex(scratch, a->ctx))
		r = -ENOMEM;
	if (r == 0)
		r = hash_chain_id(scratch, chain);
	if (r == 0 && !hash_rest(scratch, a, link_text, link_len))
		r = -ENOMEM;
	if (r == 0)
		r = finish_seq(scratch, seq, leaf);
	free(link_text);
	return r;
}

void cde_audit_leaf_ahead_free(struct cde_audit_leaf_ahead *a)
{
	if (!a)
		return;
	EVP_MD_CTX_free(a->ctx);
	free(a->text);
	free(a);
}

void cde_audit_row_of_entry(const struct cde_journal_entry *e, uint64_t seq, const char *json,
			    struct cde_audit_row *row)
{
	const struct cde_event *ev = e->event;

	*row = (struct cde_audit_row){
		.seq = seq,
		.id = or_empty(cde_event_id(ev)),
		.source = or_empty(cde_event_source(ev)),
		.type = or_empty(cde_event_type(ev)),
		.subject = cde_event_subject_id(ev),
		.chain_id = cde_event_chain_id(ev),
		.artifact_id = cde_event_artifact_of(ev),
		.timestamp = or_empty(cde_event_timestamp(ev)),
		.received_at = e->received_at,
		.spec_version = or_empty(cde_event_spec_version(ev)),
		.principal = or_empty(e->principal),
		.peer = or_empty(e->peer),
		.event = json,
	};
}

int cde_audit_entry_leaf(const struct cde_audit_row *row, const struct cde_journal_entry *e,
			 uint8_t leaf[CDE_TLOG_HASH_LEN])
{
	EVP_MD_CTX *scratch = e->leaf_ahead ? cde_sha256_thread_ctx() : NULL;
	int r = -EINVAL;

	if (scratch && row->event == e->json)
		r = cde_audit_leaf_ahead_finish(e->leaf_ahead, row->seq, scratch, leaf);
	else if (scratch)
		r = cde_audit_leaf_ahead_finish_doc(e->leaf_ahead, cde_event_json(e->event), row->seq, scratch, leaf);
	if (r < 0 && row->event != e->json)	/* printed by the writer from the event: no need to read it back */
		r = cde_audit_tree_leaf_of_doc(row, cde_event_json(e->event), leaf);
	if (r < 0)
		r = cde_audit_tree_leaf(row, leaf);
	return r;
}
