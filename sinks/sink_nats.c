/* The nats sink: each CDEvent published to NATS JetStream in the
 * CloudEvents NATS protocol binding, binary mode (ce-* headers, the
 * CDEvent as the application/json payload) or structured mode (the
 * CloudEvent as application/cloudevents+json), with Nats-Msg-Id = the
 * event's id so that the stream drops a re-sent event inside its
 * duplicate window. Publishing is cnats' asynchronous JetStream publish:
 * submit returns at once, the stream's ack arrives on a cnats thread,
 * which queues the outcome and wakes the engine's loop through an
 * eventfd, where done runs. An ack is delivered; a timeout, no stream
 * (no responders), a lost connection or a stream's refusal is retried by
 * the engine's backoff. cnats reconnects by itself, forever. */

#include "sinks/sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nats/nats.h>
#include <openssl/crypto.h>

#include "events/cloudevents.h"
#include "schemas/base/read_file.h"

#define DEFAULT_SUBJECT "cdevents.{subject-type}.{predicate}"
#define SUBJECT_MAX 512

/* One publish: awaiting its ack on the pending list, then its outcome on
 * the finished list. */
struct call {
	struct call *next;
	natsMsg *msg;		/* identifies the ack; not owned once published */
	cde_sink_done_fn done;
	void *ctx;
	struct cde_sink_result res;
};

struct nats_sink {
	const struct cde_sink_options *cfg;
	natsConnection *nc;
	jsCtx *js;
	int wake_fd;
	struct event *wake;
	pthread_mutex_t lock;	/* pending and finished, shared with cnats' threads */
	struct call *pending;
	struct call *finished;
};

/* The fields a subject template names, each as {name}. */
enum field { F_TYPE, F_SUBJECT_TYPE, F_PREDICATE, F_VERSION, F_SOURCE, N_FIELDS };
static const char *const field_names[N_FIELDS] = { "type", "subject-type", "predicate", "version", "source" };

static int field_of(const char *name, size_t len)
{
	for (int f = 0; f < N_FIELDS; f++)
		if (strlen(field_names[f]) == len && strncmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

/* Checks @tmpl: every {name} known, no wildcard or space. */
static int check_template(const char *tmpl, char *err, size_t err_size)
{
	for (const char *p = tmpl; *p; p++) {
		const char *end;

		if (*p == '*' || *p == '>' || *p == ' ') {
			snprintf(err, err_size, "subject %s: '%c' is not allowed in a subject to publish to", tmpl, *p);
			return -EINVAL;
		}
		if (*p != '{')
			continue;
		end = strchr(p, '}');
		if (!end || field_of(p + 1, (size_t)(end - p - 1)) < 0) {
			snprintf(err, err_size, "subject %s: a field is one of {type}, {subject-type}, "
				 "{predicate}, {version}, {source}", tmpl);
			return -EINVAL;
		}
		p = end;
	}
	return 0;
}

/* The @n-th dot-separated part of "dev.cdevents.SUBJECT.PREDICATE.VERSION"
 * (2, 3; 4 is the rest), or "" for a type not shaped so. */
static void type_part(const char *type, int n, char *out, size_t size)
{
	const char *p = type;

	out[0] = '\0';
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '.');
		if (p)
			p++;
	}
	if (!p)
		return;
	snprintf(out, size, "%.*s", n == 4 ? (int)strlen(p) : (int)strcspn(p, "."), p);
}

/* Appends @v to @out (at *@len, @size bytes) as one subject token:
 * anything but letters, digits, '-' and '_' becomes '_' ({type} keeps its
 * dots, which separate tokens). */
static void append_token(char *out, size_t size, size_t *len, const char *v, bool keep_dots)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

	if (!*v)
		v = "_";
	for (; *v && *len + 1 < size; v++)
		out[(*len)++] = strchr(ok, *v) || (keep_dots && *v == '.') ? *v : '_';
	out[*len] = '\0';
}

/* The subject of @ev from the template @tmpl (checked at init). */
static void expand_subject(const char *tmpl, const struct cde_event *ev, char *out, size_t size)
{
	const char *type = cde_event_type(ev) ? cde_event_type(ev) : "";
	size_t len = 0;
	char part[128];

	out[0] = '\0';
	for (const char *p = tmpl; *p && len + 1 < size; p++) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;

		if (!end) {
			out[len++] = *p;
			out[len] = '\0';
			continue;
		}
		switch (field_of(p + 1, (size_t)(end - p - 1))) {
		case F_TYPE:
			append_token(out, size, &len, type, true);
			break;
		case F_SUBJECT_TYPE:
		case F_PREDICATE:
		case F_VERSION:
			type_part(type, 2 + field_of(p + 1, (size_t)(end - p - 1)) - F_SUBJECT_TYPE, part,
				  sizeof(part));
			append_token(out, size, &len, part, false);
			break;
		default:
			append_token(out, size, &len, cde_event_source(ev) ? cde_event_source(ev) : "", false);
			break;
		}
		p = end;
	}
}

/* Runs on the engine's loop: the outcomes cnats' threads queued. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct nats_sink *s = arg;
	struct call *list, *rev = NULL;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0)
		n = 0;	/* EAGAIN: another wake took the count; the list is what counts */
	pthread_mutex_lock(&s->lock);
	list = s->finished;
	s->finished = NULL;
	pthread_mutex_unlock(&s->lock);
	while (list) {		/* queued newest first: report in ack order */
		struct call *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct call *next = rev->next;

		rev->done(rev->ctx, &rev->res);
		free(rev);
		rev = next;
	}
}

static void set_failure(struct nats_sink *s, struct cde_sink_result *res, natsStatus st, jsErrCode code,
			const char *text)
{
	res->outcome = CDE_SINK_RETRY;
	if (st == NATS_NO_RESPONDERS)
		snprintf(res->detail, sizeof(res->detail), "no stream%s%s takes subject (no responders)",
			 s->cfg->stream[0] ? " " : "", s->cfg->stream);
	else if (st == NATS_TIMEOUT)
		snprintf(res->detail, sizeof(res->detail), "no ack from JetStream within %ums", s->cfg->timeout_ms);
	else
		snprintf(res->detail, sizeof(res->detail), "%s%s%.120s (%d)", natsStatus_GetText(st),
			 text && *text ? ": " : "", text ? text : "", (int)code);
}

/* cnats' thread: the stream's answer for @msg. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct nats_sink *s = closure;
	struct call **at, *c = NULL;
	uint64_t one = 1;

	(void)js;
	pthread_mutex_lock(&s->lock);
	for (at = &s->pending; *at; at = &(*at)->next) {
		if ((*at)->msg == msg) {
			c = *at;
			*at = c->next;
			break;
		}
	}
	if (c) {
		c->res.retry_after_s = -1;
		if (pa) {
			c->res.outcome = CDE_SINK_DELIVERED;
			snprintf(c->res.receipt, sizeof(c->res.receipt), "%.60s:%llu", pa->Stream ? pa->Stream : "",
				 (unsigned long long)pa->Sequence);
		} else {
			set_failure(s, &c->res, pae ? pae->Err : NATS_ERR, pae ? pae->ErrCode : 0,
				    pae ? pae->ErrText : NULL);
		}
		c->next = s->finished;
		s->finished = c;
	}
	pthread_mutex_unlock(&s->lock);
	if (c && write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow at our rates: nothing to do. */
	}
	natsMsg_Destroy(msg);
}

/* cnats prints asynchronous errors itself without a handler; a library
 * of ours never logs, and what matters reaches on_ack. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	(void)nc, (void)sub, (void)err, (void)closure;
}

/* Reads the secret file @path (config key @key) for @set. */
static int with_secret(const char *key, const char *path, char **ret, char *err, size_t err_size)
{
	size_t len;
	int r;

	*ret = NULL;
	if (!path[0])
		return 0;
	r = cde_read_secret(path, 4096, ret, &len);
	if (r < 0)
		snprintf(err, err_size, "%s %s: %s", key, path, cde_read_secret_strerror(r));
	return r;
}

static void wipe(char *secret)
{
	if (secret) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
}

static natsStatus set_auth(natsOptions *o, const struct cde_sink_options *cfg, char *err, size_t err_size)
{
	char *user = NULL, *password = NULL, *token = NULL;
	natsStatus st = NATS_OK;

	if (with_secret("user_file", cfg->user_file, &user, err, err_size) < 0 ||
	    with_secret("password_file", cfg->password_file, &password, err, err_size) < 0 ||
	    with_secret("token_file", cfg->token_file, &token, err, err_size) < 0) {
		st = NATS_INVALID_ARG;
	} else {
		if (user)
			st = natsOptions_SetUserInfo(o, user, password);
		if (st == NATS_OK && token)
			st = natsOptions_SetToken(o, token);
		if (st == NATS_OK && cfg->creds_file[0])
			st = natsOptions_SetUserCredentialsFromFiles(o, cfg->creds_file, NULL);
		if (st != NATS_OK)
			snprintf(err, err_size, "credentials: %s", natsStatus_GetText(st));
	}
	wipe(user);
	wipe(password);
	wipe(token);
	return st;
}

/* The connection's options: reconnect forever, quickly, and do not fail
 * init when the server is down at start (the engine retries meanwhile). */
static natsStatus make_options(const struct cde_sink_options *cfg, natsOptions **ret, char *err, size_t err_size)
{
	natsOptions *o = NULL;
	natsStatus st = natsOptions_Create(&o);

	if (st == NATS_OK)
		st = natsOptions_SetURL(o, cfg->url);
	if (st == NATS_OK)
		st = natsOptions_SetName(o, "cdeventsd");
	if (st == NATS_OK)
		st = natsOptions_SetMaxReconnect(o, -1);
	if (st == NATS_OK)
		st = natsOptions_SetReconnectWait(o, 250);
	if (st == NATS_OK)
		st = natsOptions_SetRetryOnFailedConnect(o, true, NULL, NULL);
	if (st == NATS_OK)
		st = natsOptions_SetErrorHandler(o, on_async_error, NULL);
	if (st == NATS_OK && cfg->ca_file[0]) {
		st = natsOptions_SetSecure(o, true);
		if (st == NATS_OK)
			st = natsOptions_LoadCATrustedCertificates(o, cfg->ca_file);
		if (st != NATS_OK)
			snprintf(err, err_size, "ca_file %s: %s", cfg->ca_file, natsStatus_GetText(st));
	}
	if (st == NATS_OK)
		st = set_auth(o, cfg, err, err_size);
	else if (!err[0])
		snprintf(err, err_size, "url %s: %s", cfg->url, natsStatus_GetText(st));
	if (st != NATS_OK) {
		natsOptions_Destroy(o);
		return st;
	}
	*ret = o;
	return NATS_OK;
}

/* Takes back the messages still awaiting their ack, then waits for the
 * acks cnats had already taken off its table and is handing to on_ack on
 * its own thread: cnats counts those until on_ack returns, and closing
 * the connection does not wait for that thread, so freeing the sink
 * before would leave on_ack writing to freed memory. Returns false when
 * they did not finish within 10 s. */
static bool wait_for_acks_in_hand(struct nats_sink *s)
{
	natsMsgList unacked = { 0 };
	jsPubOptions po;

	if (js_PublishAsyncGetPendingList(&unacked, s->js) == NATS_OK)
		natsMsgList_Destroy(&unacked);
	jsPubOptions_Init(&po);
	po.MaxWait = 10000;
	return js_PublishAsyncComplete(s->js, &po) == NATS_OK;
}

static void nats_release(void *impl)
{
	struct nats_sink *s = impl;

	if (!s)
		return;
	/* The engine has forgotten the calls still pending, so they are only
	 * freed. Taking the messages back first means cnats calls on_ack for
	 * none of them any more; then the connection goes. */
	if (s->js && !wait_for_acks_in_hand(s))
		return;	/* an ack handler is stuck with @s: leaking it is safe, freeing is not */
	jsCtx_Destroy(s->js);
	if (s->nc)
		natsConnection_Close(s->nc);
	natsConnection_Destroy(s->nc);
	while (s->pending) {
		struct call *c = s->pending;

		s->pending = c->next;
		free(c);
	}
	while (s->finished) {
		struct call *c = s->finished;

		s->finished = c->next;
		free(c);
	}
	if (s->wake)
		event_free(s->wake);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int connect_js(struct nats_sink *s, char *err, size_t err_size)
{
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus st = make_options(s->cfg, &o, err, err_size);

	if (st != NATS_OK)
		return -EINVAL;
	st = natsConnection_Connect(&s->nc, o);
	natsOptions_Destroy(o);
	if (st != NATS_OK && st != NATS_NOT_YET_CONNECTED) {
		snprintf(err, err_size, "%s: %s", s->cfg->url, natsStatus_GetText(st));
		return -EIO;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = s;
	st = natsConnection_JetStream(&s->js, s->nc, &jo);
	if (st != NATS_OK) {
		snprintf(err, err_size, "JetStream: %s", natsStatus_GetText(st));
		return -ENOMEM;
	}
	return 0;
}

static int nats_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		     char *err, size_t err_size)
{
	struct nats_sink *s;
	int r;

	r = check_template(cfg->subject[0] ? cfg->subject : DEFAULT_SUBJECT, err, err_size);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->wake_fd = -1;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		r = -errno;
		goto err;
	}
	s->wake = event_new(env->base, s->wake_fd, EV_READ | EV_PERSIST, on_wake, s);
	if (!s->wake || event_add(s->wake, NULL) < 0) {
		r = -ENOMEM;
		goto err;
	}
	r = connect_js(s, err, err_size);
	if (r < 0)
		goto err;
	*ret_impl = s;
	return 0;
err:
	if (!err[0])
		snprintf(err, err_size, "%s", strerror(-r));
	nats_release(s);
	return r;
}

/* The message for @ev: its subject, the headers (ce-* in binary mode,
 * only Content-Type in structured mode), the payload. */
static int make_msg(struct nats_sink *s, const struct cde_event *ev, natsMsg **ret)
{
	struct cde_ce_message m = { 0 };
	char subject[SUBJECT_MAX];
	natsMsg *msg = NULL;
	natsStatus st;
	int r;

	r = cde_ce_encode(ev, s->cfg->structured ? CDE_CE_STRUCTURED : CDE_CE_BINARY, &m);
	if (r < 0)
		return r;
	expand_subject(s->cfg->subject[0] ? s->cfg->subject : DEFAULT_SUBJECT, ev, subject, sizeof(subject));
	st = natsMsg_Create(&msg, subject, NULL, m.body, (int)m.body_len);
	for (size_t i = 0; st == NATS_OK && i < m.n_headers; i++)
		st = natsMsgHeader_Set(msg, m.headers[i].name, m.headers[i].value);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(msg, "Nats-Msg-Id", cde_event_id(ev));
	cde_ce_message_release(&m);
	if (st != NATS_OK) {
		natsMsg_Destroy(msg);
		return st == NATS_NO_MEMORY ? -ENOMEM : -EINVAL;
	}
	*ret = msg;
	return 0;
}

static int nats_submit(void *impl, const struct cde_event *ev, uint64_t seq, cde_sink_done_fn done, void *ctx)
{
	struct nats_sink *s = impl;
	struct call *c = calloc(1, sizeof(*c)), **at;
	jsPubOptions po;
	natsStatus st;
	natsMsg *msg = NULL;
	int r;

	(void)seq;
	if (!c)
		return -ENOMEM;
	r = make_msg(s, ev, &msg);
	if (r < 0) {
		free(c);
		return r;
	}
	c->msg = msg;
	c->done = done;
	c->ctx = ctx;
	/* On the list before publishing: the ack may come first. */
	pthread_mutex_lock(&s->lock);
	c->next = s->pending;
	s->pending = c;
	pthread_mutex_unlock(&s->lock);
	jsPubOptions_Init(&po);
	po.MaxWait = s->cfg->timeout_ms ? s->cfg->timeout_ms : 10000;
	st = js_PublishMsgAsync(s->js, &msg, &po);
	if (st == NATS_OK)
		return 0;
	/* Not published (closed, or the reconnect buffer full): no ack will
	 * come, so the outcome is reported here. */
	natsMsg_Destroy(msg);
	pthread_mutex_lock(&s->lock);
	for (at = &s->pending; *at; at = &(*at)->next) {
		if (*at == c) {
			*at = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	c->res.retry_after_s = -1;
	set_failure(s, &c->res, st, 0, nats_GetLastError(NULL));
	done(ctx, &c->res);
	free(c);
	return 0;
}

const struct cde_sink_ops cde_sink_nats = {
	.name = "nats",
	.config_keys = (const char *const[]){ "url", "mode", "subject", "stream", "timeout", "token_file",
					      "user_file", "password_file", "creds_file", "ca_file", NULL },
	.init = nats_init,
	.submit = nats_submit,
	.release = nats_release,
};
