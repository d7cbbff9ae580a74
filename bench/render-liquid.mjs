// Renders `@liquid` templates as Segment does (mapping-kit's `transform`, which runs liquidjs
// 10.27.2 with Segment's options), for the vectors in tests/mapping_liquid.rs:
// `node bench/render-liquid.mjs '{"data": {...}, "templates": ["{{ ... }}", ...]}'` prints
// `{"data", "cases": [{"template", "output"}]}` (no `output` where liquidjs refuses the template).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { transform } = require('@segment/actions-core');
const { data, templates } = JSON.parse(process.argv[2]);
const cases = templates.map((template) => {
  try {
    const output = transform({ v: { '@liquid': template } }, data).v;
    return output === undefined ? { template } : { template, output };
  } catch {
    return { template };
  }
});
console.log(JSON.stringify({ data, cases }, null, 1));
