// The `fintech-import` command as a user runs it: the bin npm links from package.json, started in a directory
// of its own. Every mistake that stops it before it reaches a server is one line on stderr and a non-zero exit.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const bin = fileURLToPath(new URL("../../../node_modules/.bin/fintech-import", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line, no stack trace: what the user reads. */
const ONE_LINE = /^import: [^\n]+\n$/;

// Each run starts Node and compiles the TypeScript sources; on a loaded machine that is seconds, not a hang.
const SPAWNS = { timeout: 120_000 };

describe("fintech-import", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fintech-import-"));
    await writeFile(
      join(dir, "no-provider.csv"),
      "timestamp,type,amount\n2026-03-01T08:00:00Z,deposit,1.00\n",
    );
    await writeFile(
      join(dir, "good.csv"),
      "timestamp,type,provider,amount\n2026-03-01T08:00:00Z,deposit,visa,1.00\n",
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("--help prints the usage with every option and exits 0", SPAWNS, async () => {
    const { code, stdout, stderr } = await run(["--help"], dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/^usage: fintech-import <file\.csv> \[options\]/);
    for (const option of ["--replay", "--speed N", "--user-id ID", "--rates LIST", "-h, --help"]) {
      expect(stdout).toContain(option);
    }
  });

  test("a bad command line is one line on stderr and exit 2", SPAWNS, async () => {
    const cases: [string[], string][] = [
      [[], "import: which CSV file? (--help lists the options)\n"],
      [["a.csv", "b.csv"], "import: one CSV file at a time (--help lists the options)\n"],
      [["a.csv", "--fast"], "import: unknown option --fast (--help lists the options)\n"],
      [["a.csv", "--user-id"], "import: --user-id needs a value (--help lists the options)\n"],
      [["a.csv", "--replay=yes"], "import: --replay takes no value (--help lists the options)\n"],
      [
        ["a.csv", "--speed", "0"],
        'import: --speed must be a number above 0, at most 100000, not "0" (--help lists the options)\n',
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(args, dir)));
    expect(runs.map((r) => [r.code, r.stderr, r.stdout])).toEqual(cases.map(([, line]) => [2, line, ""]));
  });

  test(
    "a file it cannot use is one line naming it on stderr and exit 1, before any server is asked",
    SPAWNS,
    async () => {
      const [missing, directory, header, rates] = await Promise.all([
        run(["missing.csv"], dir),
        run([dir], dir),
        run(["no-provider.csv"], dir),
        run(["good.csv", "--rates", "SGD=3"], dir),
      ]);
      expect(missing).toEqual({
        code: 1,
        stdout: "",
        stderr: `import: ${join(dir, "missing.csv")}: no such file\n`,
      });
      expect(directory).toEqual({ code: 1, stdout: "", stderr: `import: ${dir} is not a file\n` });
      expect(header).toMatchObject({ code: 1, stdout: "" });
      expect(header.stderr).toMatch(ONE_LINE);
      expect(header.stderr).toContain(
        `import: ${join(dir, "no-provider.csv")}: the header has no provider column: found timestamp, type, amount;`,
      );
      expect(rates).toEqual({
        code: 1,
        stdout: "",
        stderr: 'import: --rates: expected BASE/QUOTE=RATE items such as SGD/MYR=3.50, got "SGD=3"\n',
      });
    },
  );
});
