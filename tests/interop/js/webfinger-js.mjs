// webfinger.js (npm), an RFC 7033 JRD client. Usage: node webfinger-js.mjs ADDRESS
// Private addresses and plain http are allowed: the node under test is on loopback.
import WebFinger from "webfinger.js";
const client = new WebFinger({ tls_only: false, allow_private_addresses: true, request_timeout: 5000 });
try {
  const result = await client.lookup(process.argv[2]);
  console.log(JSON.stringify({ object: result.object, idx: result.idx }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err) }));
  process.exit(1);
}
