// The E14N `webfinger` client (npm) resolving a resource through host-meta and
// an LRDD template, as pump.io did. Usage: node e14n-lrdd.cjs PORT RESOURCE
//
// The library looks host-meta up on the fixed ports 443 and 80; the node under
// test listens on PORT, so requests for 127.0.0.1:80 are sent to PORT (the
// stand-in for a DNS name). Every request is logged, so that the suite can
// tell which of host-meta's templates (XRD or JRD) the client used.
"use strict";
const http = require("http");
const port = Number(process.argv[2]);
const requests = [];
const request = http.request;
http.request = function (options, callback) {
  if (typeof options === "object" && options.hostname === "127.0.0.1" && (options.port === 80 || options.port == null)) {
    options = Object.assign({}, options, { port });
  }
  requests.push({ port: options.port, path: options.path || options.pathname, accept: (options.headers || {}).accept || null });
  return request.call(http, options, callback);
};
const webfinger = require("webfinger");
webfinger.lrdd(process.argv[3], {}, (err, jrd) => {
  if (err) {
    console.log(JSON.stringify({ error: String(err), requests }));
    process.exit(1);
  }
  console.log(JSON.stringify({ jrd, requests }));
});
