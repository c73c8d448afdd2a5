/* Which events a sink gets: the routes that name it, each with an
 * optional filter (sinks/filter.c), compiled once when the delivery engine
 * starts and matched against every stored event the sink reads. A sink no
 * route names gets nothing; a route without a filter gives it every event. */

#include <stdio.h>
#include <string.h>

#include "sinks/delivery_internal.h"
#include "sinks/filter.h"

int cde_delivery_routes_setup(struct sink *s, const struct cde_delivery_options *opts, size_t idx, char *err,
			      size_t err_size)
{
	struct cde_errors errs;
	int r;

	for (size_t i = 0; i < opts->n_routes; i++) {
		const struct cde_route_options *route = &opts->routes[i];
		bool named = false;

		for (size_t k = 0; k < route->n_sinks; k++)
			named |= route->sinks[k] == idx;
		if (!named)
			continue;
		s->routed = true;
		if (!route->filter || !route->filter[0]) {
			s->match_all = true;
			continue;
		}
		cde_errors_reset(&errs);
		r = cde_filter_compile_text(route->filter, "", &s->filters[s->n_filters], &errs);
		if (r < 0) {
			snprintf(err, err_size, "route %zu: its filter does not compile: %s", i,
				 errs.count ? errs.items[0].reason : strerror(-r));
			return r;
		}
		s->n_filters++;
	}
	return 0;
}

bool cde_delivery_routes_match(const struct sink *s, const struct cde_event *ev)
{
	if (s->match_all)
		return true;
	for (size_t i = 0; i < s->n_filters; i++)
		if (cde_filter_match(s->filters[i], cde_event_json(ev)))
			return true;
	return false;
}
