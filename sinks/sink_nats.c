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
#include "sinks/nats_subject.h"
#include "schemas/base/read_file.h"


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
	struct event *watch;	/* a connection cnats closed is replaced */
	char down[160];		/* why there is no connection */
	bool published;		/* a publish was taken on @js */
	unsigned idle_ticks;	/* of on_watch, while unconnected */
	pthread_mutex_t lock;	/* pending and finished, shared with cnats' threads */
	struct call *pending;
	struct call *finished;
};

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

/* The outcome of a publish that failed with @st. @down is the reason the
 * sink has no connection, when known on the caller's thread (the loop's;
 * NULL on cnats' thread). */
static void set_failure(struct nats_sink *s, struct cde_sink_result *res, natsStatus st, jsErrCode code,
			const char *text, const char *down)
{
	bool connected = natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED;
	const char *why = NULL;

	res->outcome = CDE_SINK_RETRY;
	res->retry_after_s = -1;
	/* Unconnected, a publish waits in cnats' reconnect buffer until its
	 * ack times out, or is refused (headers "not supported" before the
	 * server said it takes them): the connection's own error is the
	 * reason to name, else why the last attempt failed. */
	if (!connected && (st == NATS_TIMEOUT || st == NATS_CONNECTION_CLOSED || st == NATS_NO_SERVER_SUPPORT)) {
		if (natsConnection_GetLastError(s->nc, &why) == NATS_OK || !why || !*why)
			why = down && *down ? down : "connecting";
	}
	if (st == NATS_NO_RESPONDERS)
		snprintf(res->detail, sizeof(res->detail), "no stream%s%s takes subject (no responders)",
			 s->cfg->stream[0] ? " " : "", s->cfg->stream);
	else if (why)
		snprintf(res->detail, sizeof(res->detail), "not connected to NATS: %.150s", why);
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
				    pae ? pae->ErrText : NULL, NULL);
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

static void on_connected(natsConnection *nc, void *closure)
{
	(void)nc, (void)closure;
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

/* cnats reads the .creds file (JWT and NKey seed) itself; it passes the
 * check every secret file here passes first, with the same message. */
static int check_creds(const char *path, char *err, size_t err_size)
{
	int r = path[0] ? cde_check_secret_file(path) : 0;

	if (r < 0)
		snprintf(err, err_size, "creds_file %s: %s", path, cde_read_secret_strerror(r));
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
	    with_secret("token_file", cfg->token_file, &token, err, err_size) < 0 ||
	    check_creds(cfg->creds_file, err, err_size) < 0) {
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

/* The connection's options: once connected, reconnect forever, quickly. */
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

	/* cnats makes its table at the first publish, and reads it here
	 * without checking that it exists. */
	if (s->published && js_PublishAsyncGetPendingList(&unacked, s->js) == NATS_OK)
		natsMsgList_Destroy(&unacked);
	jsPubOptions_Init(&po);
	po.MaxWait = 10000;
	return js_PublishAsyncComplete(s->js, &po) == NATS_OK;
}

/* Closes and frees the connection, after which no on_ack runs. Returns
 * false (keeping it) when an ack handler is stuck with @s. */
static bool drop_connection(struct nats_sink *s)
{
	if (s->js && !wait_for_acks_in_hand(s))
		return false;
	jsCtx_Destroy(s->js);
	s->js = NULL;
	s->published = false;
	if (s->nc)
		natsConnection_Close(s->nc);
	natsConnection_Destroy(s->nc);
	s->nc = NULL;
	return true;
}

static void free_calls(struct call *c)
{
	while (c) {
		struct call *next = c->next;

		free(c);
		c = next;
	}
}

static void nats_release(void *impl)
{
	struct nats_sink *s = impl;

	if (!s)
		return;
	if (s->watch)
		event_free(s->watch);
	/* The engine has forgotten the calls still pending: they are only
	 * freed, once cnats can call on_ack for none of them any more. */
	if (!drop_connection(s))
		return;	/* an ack handler is stuck with @s: leaking it is safe, freeing is not */
	free_calls(s->pending);
	free_calls(s->finished);
	if (s->wake)
		event_free(s->wake);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* cnats' last error on this thread, without its "(conn.c:1905): " origin. */
static void last_error(natsStatus st, char *out, size_t size)
{
	const char *text = nats_GetLastError(NULL), *at = text ? strstr(text, "): ") : NULL;

	snprintf(out, size, "%s", at ? at + 3 : text && *text ? text : natsStatus_GetText(st));
}

/* Connects. One attempt first, which names what went wrong (cnats'
 * retrying connect only ever says "no server available"). A server that
 * cannot be reached is then left to cnats, which retries on its own
 * thread (with a connected callback; without one it would retry here, on
 * the loop, forever) and buffers the publishes meanwhile. A server that
 * refuses the credentials or the TLS handshake leaves the sink
 * unconnected (@s->nc NULL, the reason in @s->down) for on_watch to try
 * again. Neither is an error of the configuration; -EINVAL is, for
 * options that cannot work (a secret or CA file unreadable), with @err. */
static int connect_js(struct nats_sink *s, char *err, size_t err_size)
{
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus st = make_options(s->cfg, &o, err, err_size);

	if (st != NATS_OK)
		return -EINVAL;
	st = natsConnection_Connect(&s->nc, o);
	if (st != NATS_OK)
		last_error(st, s->down, sizeof(s->down));
	if (st == NATS_NO_SERVER && natsOptions_SetRetryOnFailedConnect(o, true, on_connected, NULL) == NATS_OK)
		st = natsConnection_Connect(&s->nc, o);
	natsOptions_Destroy(o);
	if (st != NATS_OK && st != NATS_NOT_YET_CONNECTED) {
		natsConnection_Destroy(s->nc);
		s->nc = NULL;
		return 0;
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

/* Every second, on the engine's loop: cnats retries a lost connection
 * forever, but closes one whose credentials or certificate the server
 * refused, and the publishes it held then get no ack: they are handed
 * back for a retry, and a new connection is made (with the secrets read
 * again), as for a sink that could not connect. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct nats_sink *s = arg;
	struct call *list;
	const char *why = NULL;
	char err[160] = "";

	(void)fd, (void)what;
	if (s->nc && s->js && !natsConnection_IsClosed(s->nc))
		return;
	/* A refusal is asked again every 5 s, not every second. */
	if (!s->nc && ++s->idle_ticks % 5 != 0)
		return;
	if (s->nc && natsConnection_GetLastError(s->nc, &why) != NATS_OK && why)
		snprintf(s->down, sizeof(s->down), "%s", why);
	if (!drop_connection(s))
		return;
	pthread_mutex_lock(&s->lock);
	list = s->pending;
	s->pending = NULL;
	pthread_mutex_unlock(&s->lock);
	while (list) {
		struct call *next = list->next;

		list->res.outcome = CDE_SINK_RETRY;
		list->res.retry_after_s = -1;
		snprintf(list->res.detail, sizeof(list->res.detail), "connection closed: %.150s", s->down);
		list->done(list->ctx, &list->res);
		free(list);
		list = next;
	}
	if (connect_js(s, err, sizeof(err)) < 0)
		snprintf(s->down, sizeof(s->down), "%s", err);
}

static int nats_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		     char *err, size_t err_size)
{
	static const struct timeval second = { 1, 0 };
	struct nats_sink *s;
	int r;

	r = cde_nats_subject_check(cfg->subject[0] ? cfg->subject : CDE_NATS_SUBJECT_DEFAULT, err, err_size);
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
	s->watch = event_new(env->base, -1, EV_PERSIST, on_watch, s);
	if (!s->wake || event_add(s->wake, NULL) < 0 || !s->watch || event_add(s->watch, &second) < 0) {
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
	char subject[CDE_NATS_SUBJECT_MAX];
	natsMsg *msg = NULL;
	natsStatus st;
	int r;

	r = cde_ce_encode(ev, s->cfg->structured ? CDE_CE_STRUCTURED : CDE_CE_BINARY, &m);
	if (r < 0)
		return r;
	cde_nats_subject_expand(s->cfg->subject[0] ? s->cfg->subject : CDE_NATS_SUBJECT_DEFAULT, ev, subject,
				sizeof(subject));
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
	if (!s->js) {
		c->res.outcome = CDE_SINK_RETRY;
		c->res.retry_after_s = -1;
		snprintf(c->res.detail, sizeof(c->res.detail), "not connected to NATS: %.150s", s->down);
		done(ctx, &c->res);
		free(c);
		return 0;
	}
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
	if (st == NATS_OK) {
		s->published = true;
		return 0;
	}
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
	set_failure(s, &c->res, st, 0, nats_GetLastError(NULL), s->down);
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
