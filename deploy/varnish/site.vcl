# What differs per site, included by default.vcl: the Kedah Pulse server
# (or a load balancer in front of several) and the addresses the servers
# purge from. server/varnish_test.go writes its own in place of this file.
backend default {
  .host = "127.0.0.1";
  .port = "8080";
  .first_byte_timeout = 65s; # the server answers within 60 s (its write timeout)
}

acl purgers {
  "127.0.0.1";
  "::1";
}
