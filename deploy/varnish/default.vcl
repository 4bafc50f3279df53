# Varnish in front of Kedah Pulse in the CDN mode (docs/production.md):
# it keeps the server's cacheable answers, indexed by the tags the server
# names in Cache-Tag (xkey, from varnish-modules), and removes them when the
# server purges those tags. Start the server with
#   CDN_PURGE_URL=http://<varnish>/  CDN_PURGE_FORMAT=xkey
# and Varnish with this file (varnishd -f .../default.vcl); site.vcl,
# included below, holds what differs per site: the backend and who may
# purge. server/varnish_test.go runs this file as shipped.
vcl 4.1;

import xkey;

include "site.vcl";

sub vcl_recv {
  # A purge from the server: PURGE with xkey-purge: <tag> <tag> ...
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) {
      return (synth(403, "Forbidden"));
    }
    if (!req.http.xkey-purge) {
      return (synth(400, "xkey-purge header required"));
    }
    # A hard purge: no grace copy of a purged answer is ever served.
    set req.http.x-purged = xkey.purge(req.http.xkey-purge);
    return (synth(200, "Purged " + req.http.x-purged));
  }
  # The API sets no cookies; a browser's cookies for the site must not
  # make every read miss. Authorization is kept: the builtin VCL passes
  # such requests (the admin's answers are never shared). GET and HEAD
  # only: the builtin VCL passes POST (mutations included) and the rest.
  unset req.http.Cookie;
}

sub vcl_backend_response {
  # Keep only answers the server offers to shared caches: public with an
  # s-maxage and named by tags it will purge. Anything else is not stored
  # (remembered as uncacheable for 2 minutes, so requests for it are not
  # queued behind each other).
  if (!beresp.http.Cache-Tag || beresp.http.Cache-Control !~ "s-maxage") {
    set beresp.uncacheable = true;
    set beresp.ttl = 120s;
    return (deliver);
  }
  set beresp.http.xkey = regsuball(beresp.http.Cache-Tag, ",", " ");
  # The TTL is the answer's s-maxage (Varnish reads it). No grace: nothing
  # is served past it, since it bounds a purge lost past its retries.
  set beresp.grace = 0s;
}

sub vcl_deliver {
  # The tags are between the server and Varnish.
  unset resp.http.xkey;
  unset resp.http.Cache-Tag;
  if (obj.hits > 0) {
    set resp.http.X-Varnish-Cache = "HIT";
  } else {
    set resp.http.X-Varnish-Cache = "MISS";
  }
}
