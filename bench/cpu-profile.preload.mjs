// Preloaded into the server by `PROFILE=1 node bench/token.bench.mjs` (node --import):
// SIGWINCH starts the V8 CPU profiler, the next SIGWINCH stops it and writes
// $CPU_PROFILE_DIR/profile-<n>.cpuprofile. `node --cpu-prof` would not do: the server dies by
// its signal handler (Nest's shutdown hooks re-raise SIGTERM), so no profile is written at exit,
// and we want only the measured window, not start-up and warm-up. Not SIGUSR2: Nest's
// enableShutdownHooks() treats SIGUSR2 as a shutdown signal; SIGWINCH is ignored by default.
import { Session } from 'node:inspector';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR ?? '.';
const interval = Number(process.env.CPU_PROFILE_INTERVAL_US ?? 500);
const session = new Session();
session.connect();
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

let running = false;
let n = 0;
process.on('SIGWINCH', () => {
  void (async () => {
    if (!running) {
      running = true;
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval });
      await post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await post('Profiler.stop');
    const file = join(dir, `profile-${++n}.cpuprofile`);
    writeFileSync(`${file}.tmp`, JSON.stringify(profile));
    renameSync(`${file}.tmp`, file);
  })().catch((e) => process.stderr.write(`cpu-profile preload: ${e.stack ?? e}\n`));
});
