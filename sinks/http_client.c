/* libcurl's multi interface on libevent, after curl's multi-event.c and
 * hiperfifo.c: curl tells us which sockets to watch (socket callback) and
 * when to wake it (timer callback); the loop tells curl what happened
 * with curl_multi_socket_action, after which finished transfers are
 * drained with curl_multi_info_read. curl is never called from inside its
 * own callbacks, only from the loop's.
 *
 * A kept-alive connection between two requests: curl stops watching its
 * socket when a request ends and watches it again for the next, which
 * was an epoll_ctl each way for every delivery (about 6% of the delivery
 * thread). The sockets of connections we open (CURLOPT_OPENSOCKETFUNCTION)
 * stay watched for reads while idle, and are let go when curl closes
 * them (CURLOPT_CLOSESOCKETFUNCTION, which a connection keeps whichever
 * handle uses it); an idle one that becomes readable (the receiver closed
 * it, or wrote what nobody asked for) is shut down at once, and curl
 * finds it dead at its next use. */

#include "sinks/http_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct call {
	struct cde_http_client *client;
	CURL *easy;
	cde_http_done_fn done;
	void *ctx;
	long retry_after_s;
	size_t body_len;
	char body[CDE_HTTP_BODY_MAX + 1];
	char error[CURL_ERROR_SIZE];
	struct call *prev, *next;
};

/* Finished calls kept with their easy handle for the next request:
 * making and freeing both per delivery (a 4 KiB call, curl's buffers)
 * showed in the delivery thread's profile, mostly as malloc_consolidate.
 * Connections live in the multi handle either way. */
#define SPARE_MAX 64

/* What the loop watches of socket fd (the index in the client's table). */
struct watch {
	struct event *ev;	/* NULL until first watched */
	short kind;		/* EV_READ | EV_WRITE as added; 0 not added */
	bool ours;		/* opened through open_socket, closed through close_socket */
	bool idle;		/* curl let go of it: a kept-alive connection between requests */
};

struct cde_http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct watch *watch;	/* by socket */
	size_t n_watch;
	struct call *calls;
	size_t n_calls;
	struct call *spare;
	size_t n_spare;
	size_t peak;		/* the most calls at once so far */
};

/* A finished call, its handle out of the multi: kept or freed. */
static void retire(struct cde_http_client *c, struct call *call)
{
	if (c->n_spare >= SPARE_MAX) {
		curl_easy_cleanup(call->easy);
		free(call);
		return;
	}
	curl_easy_reset(call->easy);
	call->next = c->spare;
	c->spare = call;
	c->n_spare++;
}

/* A call with a fresh state and an easy handle, or NULL. */
static struct call *new_call(struct cde_http_client *c)
{
	struct call *call = c->spare;
	CURL *easy;

	if (!call) {
		call = calloc(1, sizeof(*call));
		if (call && !(call->easy = curl_easy_init())) {
			free(call);
			call = NULL;
		}
		return call;
	}
	c->spare = call->next;
	c->n_spare--;
	easy = call->easy;
	memset(call, 0, sizeof(*call));
	call->easy = easy;
	return call;
}

static void finish_done(struct cde_http_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left))) {
		struct call *call = NULL;
		struct cde_http_response resp = { .retry_after_s = -1 };

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		if (msg->data.result == CURLE_OK) {
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &resp.status);
		} else {
			resp.error = call->error[0] ? call->error : curl_easy_strerror(msg->data.result);
		}
		resp.retry_after_s = call->retry_after_s;
		resp.body = call->body;
		resp.body_len = call->body_len;
		curl_multi_remove_handle(c->multi, call->easy);
		if (call->prev)
			call->prev->next = call->next;
		else
			c->calls = call->next;
		if (call->next)
			call->next->prev = call->prev;
		c->n_calls--;
		/* done may start new requests: that is fine here, outside any
		 * curl callback. The response's body is the call's: it is
		 * retired after done has read it. */
		call->done(call->ctx, &resp);
		retire(c, call);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct cde_http_client *c = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	if (c->watch[fd].idle) {
		/* Closed by the receiver, or bytes nobody asked for (a late
		 * answer, a proxy's 408): curl would take those for the answer
		 * to the next request it sends here, and every answer after it
		 * would be one request late, so a refused event could pass for
		 * delivered. Shut down, the connection fails at its next use
		 * and curl sends that request over a new one. */
		shutdown(fd, SHUT_RDWR);
		event_del(c->watch[fd].ev);
		c->watch[fd].kind = 0;
		c->watch[fd].idle = false;
		return;
	}
	curl_multi_socket_action(c->multi, fd, flags, &running);
	finish_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cde_http_client *c = arg;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finish_done(c);
}

/* Socket @s's entry, the table grown to hold it; NULL without memory. */
static struct watch *watch_of(struct cde_http_client *c, curl_socket_t s)
{
	if (s < 0)
		return NULL;
	if ((size_t)s >= c->n_watch) {
		size_t n = (size_t)s + 64;
		struct watch *more = realloc(c->watch, n * sizeof(*more));

		if (!more)
			return NULL;
		memset(more + c->n_watch, 0, (n - c->n_watch) * sizeof(*more));
		c->watch = more;
		c->n_watch = n;
	}
	return &c->watch[s];
}

static void unwatch(struct watch *w)
{
	if (w->kind)
		event_del(w->ev);
	w->kind = 0;
	w->idle = false;
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct cde_http_client *c = userp;
	struct watch *w = watch_of(c, s);
	short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));

	if (!w)
		return -1;
	if (what == CURL_POLL_REMOVE) {
		/* A socket of ours watched for reads alone stays so while
		 * idle; one watched for writes would wake the loop for ever. */
		if (w->ours && w->kind == EV_READ)
			w->idle = true;
		else
			unwatch(w);
		return 0;
	}
	/* Watched but unknown to curl and not idle: the socket it was
	 * watched for was closed behind our back (not through close_socket);
	 * epoll forgot it with the close, libevent has to as well. */
	if (!socketp && !w->idle && w->kind)
		unwatch(w);
	if (!socketp && curl_multi_assign(c->multi, s, w) != CURLM_OK)
		return -1;
	w->idle = false;
	if (w->kind == kind)
		return 0;
	if (!w->ev) {
		w->ev = event_new(c->base, s, (short)(kind | EV_PERSIST), on_socket_event, c);
		if (!w->ev)
			return -1;
	} else {
		unwatch(w);
		event_assign(w->ev, c->base, s, (short)(kind | EV_PERSIST), on_socket_event, c);
	}
	if (event_add(w->ev, NULL) < 0)
		return -1;
	w->kind = kind;
	return 0;
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct cde_http_client *c = clientp;
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	struct watch *w;

	if (s == CURL_SOCKET_BAD)
		return s;
	w = watch_of(c, s);
	if (!w) {
		close(s);
		return CURL_SOCKET_BAD;
	}
	unwatch(w);
	w->ours = true;
	return s;
}

static int close_socket(void *clientp, curl_socket_t s)
{
	struct cde_http_client *c = clientp;

	if ((size_t)s < c->n_watch) {
		unwatch(&c->watch[s]);
		c->watch[s].ours = false;
	}
	return close(s);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct cde_http_client *c = userp;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	if (timeout_ms < 0)
		return evtimer_del(c->timer) == 0 ? 0 : -1;
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct call *call = arg;
	size_t n = size * nmemb, room = CDE_HTTP_BODY_MAX - call->body_len;

	/* Only the start is kept (for a receipt or an error message); the
	 * rest is read and dropped so the connection can be reused. */
	if (room) {
		memcpy(call->body + call->body_len, data, n < room ? n : room);
		call->body_len += n < room ? n : room;
		call->body[call->body_len] = '\0';
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct call *call = arg;
	size_t n = size * nmemb;
	char value[128];

	if (n > 12 && n < 12 + sizeof(value) && strncasecmp(data, "Retry-After:", 12) == 0) {
		char *end;
		long secs;

		memcpy(value, data + 12, n - 12);
		value[n - 12] = '\0';
		value[strcspn(value, "\r\n")] = '\0';
		secs = strtol(value, &end, 10);
		if (end != value && *end == '\0' && secs >= 0) {
			call->retry_after_s = secs;
		} else {
			/* An HTTP date. */
			time_t at = curl_getdate(value + strspn(value, " "), NULL);
			time_t now = time(NULL);

			if (at != -1)
				call->retry_after_s = at > now ? (long)(at - now) : 0;
		}
	}
	return n;
}

int cde_http_client_new(struct event_base *base, struct cde_http_client **ret)
{
	struct cde_http_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->base = base;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->multi || !c->timer) {
		cde_http_client_free(c);
		return -ENOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*ret = c;
	return 0;
}

int cde_http_client_post(struct cde_http_client *c, const struct cde_http_client_request *req,
			 cde_http_done_fn done, void *ctx)
{
	struct call *call = new_call(c);

	if (!call)
		return -ENOMEM;
	call->client = c;
	call->done = done;
	call->ctx = ctx;
	call->retry_after_s = -1;
	curl_easy_setopt(call->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(call->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(call->easy, CURLOPT_SSL_VERIFYPEER, req->tls_verify ? 1L : 0L);
	curl_easy_setopt(call->easy, CURLOPT_SSL_VERIFYHOST, req->tls_verify ? 2L : 0L);
	curl_easy_setopt(call->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->error);
	curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(call->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(call->easy, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(call->easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(call->easy, CURLOPT_CLOSESOCKETDATA, c);
	curl_easy_setopt(call->easy, CURLOPT_USERAGENT, "cdeventsd");
	if (curl_multi_add_handle(c->multi, call->easy) != CURLM_OK) {
		retire(c, call);
		return -ENOMEM;
	}
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	/* curl's connection cache holds 4 per easy handle in the multi by
	 * default, counted when a transfer ends: between a call's end and
	 * the next call's start that is fewer than the connections in use,
	 * and one in 30 to 40 deliveries opened a new connection. As many as
	 * there were calls at once keeps every connection alive. */
	if (++c->n_calls > c->peak) {
		c->peak = c->n_calls;
		curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->peak);
	}
	return 0;
}

size_t cde_http_client_in_flight(const struct cde_http_client *c)
{
	return c->n_calls;
}

void cde_http_client_free(struct cde_http_client *c)
{
	if (!c)
		return;
	while (c->calls) {
		struct call *call = c->calls;
		struct cde_http_response resp = { .error = "cancelled", .retry_after_s = -1 };

		c->calls = call->next;
		curl_multi_remove_handle(c->multi, call->easy);
		curl_easy_cleanup(call->easy);
		/* Told, so that whoever waits can free what it holds. */
		call->done(call->ctx, &resp);
		free(call);
	}
	while (c->spare) {
		struct call *call = c->spare;

		c->spare = call->next;
		curl_easy_cleanup(call->easy);
		free(call);
	}
	/* Cleaning the multi handle closes its connections (through
	 * close_socket, which stops watching them). */
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->n_watch; i++)
		if (c->watch[i].ev)
			event_free(c->watch[i].ev);
	free(c->watch);
	if (c->timer)
		event_free(c->timer);
	free(c);
}
