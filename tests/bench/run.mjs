// make bench: runs every benchmark, prints their figures, and writes the
// figures as one JSON file under tests/bench/results/ (named by date and
// machine) so that runs can be compared. Asserts nothing.
//
//   node tests/bench/run.mjs path/to/cdeventsd [query-events] [seconds]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const [bin, queryEvents = '1000000', seconds = '10'] = process.argv.slice(2);
const summary = {
  at: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
};

// A script of this folder, or with @program a built program, run with @args.
function run(script, args, program = null) {
  return new Promise((resolve) => {
    const p = program
      ? spawn(program, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env,
        CDE_SPEC_DIR: process.env.CDE_SPEC_DIR || path.join(here, '../../../shared/cdevents-spec'),
        CDEVENTSD_CATALOG: process.env.CDEVENTSD_CATALOG || path.join(here, '../../schemas/catalog') } })
      : spawn(process.execPath, [path.join(here, script), bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('RESULT ')) Object.assign(summary, JSON.parse(line.slice(7)));
        else console.log(line);
      }
    });
    p.on('error', (e) => { console.log(`${program || script}: ${e.message}`); resolve(); });
    p.on('exit', resolve);
  });
}

console.log(`== ingest (wrk, nginx as the ceiling), ${seconds} s per run`);
await run('ingest.mjs', [seconds]);
console.log(`== ingest on PostgreSQL, 1 and 2 replicas, ${seconds} s per run`);
await run('ingest_pg.mjs', [seconds]);
console.log('== fan-out (nginx receivers) and a sink down');
await run('fanout.mjs', ['50000']);
console.log('== fan-out to NATS JetStream (a local nats-server)');
await run('nats.mjs', ['50000']);
console.log(`== queries on ${queryEvents} events`);
await run('audit.mjs', [queryEvents]);
console.log('== validators: JSON Schema (official schema file) next to the catalog');
await run(null, ['3'], path.join(path.dirname(bin), 'tests', 'bench_validators'));
console.log('== the Merkle tree\'s share of the store\'s CPU per event');
await run(null, ['30000'], path.join(path.dirname(bin), 'tests', 'bench_tlog'));
console.log('== the writer\'s CPU per hook as the daemon drives it, and as bench_tlog does');
await run(null, ['20000', '12', '1', 'one'], path.join(path.dirname(bin), 'tests', 'bench_writer'));
await run(null, ['20000', '30', '30', 'each'], path.join(path.dirname(bin), 'tests', 'bench_writer'));
console.log('== a promotion gate over an artifact with many test cases');
await run(null, [], path.join(path.dirname(bin), 'tests', 'bench_gate'));
await run('gate_http.mjs', []);
const dir = path.join(here, 'results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${summary.at.slice(0, 19).replace(/:/g, '')}-${summary.host}.json`);
fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
console.log(`figures written to ${path.relative(process.cwd(), file)}`);
