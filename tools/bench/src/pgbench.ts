import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";

/**
 * `pgbench -N` (simple-update: no branch/teller hot rows, one commit per operation) tps against the same
 * Postgres as the services, on a scratch database dropped afterwards: the ceiling a one-commit-per-request
 * design could reach here. Undefined (with a line saying why) when pgbench is missing or fails.
 */
export async function runPgbench(
  databaseUrl: string,
  clients: number,
  seconds: number,
): Promise<number | undefined> {
  const url = new URL(databaseUrl);
  const scratch = `bench_pgbench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const run = promisify(execFile);
  const conn = [
    "-h",
    url.hostname,
    "-p",
    url.port || "5432",
    "-U",
    decodeURIComponent(url.username || "postgres"),
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password) };
  try {
    await admin.query(`CREATE DATABASE ${scratch}`);
    await run("pgbench", [...conn, "-i", "-s", "10", "-q", scratch], { env });
    const { stdout } = await run(
      "pgbench",
      [...conn, "-N", "-c", String(clients), "-j", "2", "-T", String(seconds), scratch],
      { env },
    );
    const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
    return tps === undefined ? undefined : Number(tps);
  } catch (err) {
    const missing = err instanceof Error && "code" in err && err.code === "ENOENT";
    console.log(missing ? "pgbench is not installed: skipped" : `pgbench failed: ${String(err)}`);
    return undefined;
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${scratch}`);
    await admin.end();
  }
}
