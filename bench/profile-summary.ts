/**
 * Summarises a V8 CPU profile: `npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 40]
 * [--inclusive 'regex' ...] [--callers 'regex' --depth 4]`. Profiles come from `npm run bench -- --only gateway --profile DIR`.
 */
import { parseArgs } from 'node:util';
import { formatProfile, summariseProfile } from './lib/cpu-profile.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    inclusive: { type: 'string', multiple: true, default: [] },
    callers: { type: 'string', multiple: true, default: [] },
    depth: { type: 'string', default: '4' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--inclusive REGEX ...]');
const summary = summariseProfile(file, Number(values.top));
console.log(formatProfile(summary));
if (values.inclusive.length > 0) console.log('-- inclusive time (any frame on the stack matches)');
for (const pattern of values.inclusive) {
  const ms = summary.inclusive(new RegExp(pattern));
  console.log(`${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)} %  /${pattern}/`);
}
for (const pattern of values.callers) {
  console.log(`-- callers of /${pattern}/ (self time of the matching frame, by caller chain)`);
  for (const row of summary.callers(new RegExp(pattern), Number(values.depth))) console.log(`${row.selfMs.toFixed(0).padStart(8)} ms ${row.percent.toFixed(1).padStart(5)} %  ${row.name}`);
}
