// feedparser (npm) reading an Atom document. Usage: node feedparser.cjs FILE
// Prints the feed's metadata and, per item, what it found of Activity Streams
// and threading.
"use strict";
const FeedParser = require("feedparser");
const fs = require("fs");
const text = (node) => (node && node["#"]) || null;
const parser = new FeedParser({ addmeta: false });
const items = [];
let meta = null;
parser.on("error", (err) => {
  console.log(JSON.stringify({ error: String(err) }));
  process.exit(1);
});
parser.on("meta", (m) => {
  meta = { title: m.title, author: m.author, hub: (m.cloud && m.cloud.href) || null, self: m.xmlurl };
});
parser.on("readable", function () {
  let item;
  while ((item = this.read())) items.push(item);
});
parser.on("end", () => {
  console.log(JSON.stringify({
    meta,
    items: items.map((item) => ({
      id: item.guid,
      title: item.title,
      verb: text(item["activity:verb"]),
      objectType: text(item["activity:object-type"]),
      inReplyTo: ((item["thr:in-reply-to"] || {})["@"] || {}).ref || null,
      authorUri: text((item["atom:author"] || {}).uri),
    })),
  }));
});
fs.createReadStream(process.argv[2]).pipe(parser);
