// Validates an OpenRPC document against the OpenRPC meta-schema and dereferences every
// $ref; prints TAP. Usage: node validate.js MODULES_DIR DOCUMENT
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [modulesDir, docPath] = process.argv.slice(2);
let n = 0;
let failed = 0;
const ok = (d) => console.log(`ok ${++n} - ${d}`);
const notOk = (d, why) => {
  failed++;
  console.log(`not ok ${++n} - ${d}`);
  String(why).split('\n').forEach((l) => console.log(`# ${l}`));
};

async function main() {
  let utils;
  try {
    utils = createRequire(path.join(path.resolve(modulesDir), 'package.json'))(
      '@open-rpc/schema-utils-js');
  } catch (e) {
    notOk('@open-rpc/schema-utils-js is installed', `${e.message}\nrun scripts/setup`);
    return;
  }
  const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
  try {
    const valid = utils.validateOpenRPCDocument(doc);
    if (valid === true) ok('data/openrpc.json is valid against the OpenRPC meta-schema');
    else notOk('data/openrpc.json is valid against the OpenRPC meta-schema', valid.message || valid);
  } catch (e) {
    notOk('data/openrpc.json is valid against the OpenRPC meta-schema', e.message);
  }
  try {
    await utils.parseOpenRPCDocument(JSON.stringify(doc), { dereference: true, validate: true });
    ok('data/openrpc.json parses and dereferences with schema-utils-js');
  } catch (e) {
    notOk('data/openrpc.json parses and dereferences with schema-utils-js', e.message);
  }
}

main().finally(() => {
  console.log(`1..${n}`);
  process.exitCode = failed ? 1 : 0;
});
