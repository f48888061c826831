import { readFileSync, readdirSync } from 'node:fs';
import { summarizeProfile } from '../lib.mjs';
const dir = process.argv[2];
const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
const s = summarizeProfile(JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')), 40, 0);
for (const a of s.areas.slice(0, 10)) console.log('AREA', a.name, a.pct.toFixed(1));
for (const x of s.functions) console.log(x.pct.toFixed(1), x.name);
