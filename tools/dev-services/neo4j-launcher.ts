import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  findCommand,
  removeLeftovers,
  runBuild,
  type Log,
} from '../../infra/process/process-tools.ts';
import { aptInstall } from '../../infra/process/system-setup.ts';

// Kept for importers of this module; they now live in process-tools.ts.
export { isAlive, tail } from '../../infra/process/process-tools.ts';

const BUILD_TIMEOUT_MS = 20 * 60_000;

export interface EnsureNeo4jLauncherOptions {
  /** The project root: sources in `tools/dev-services/neo4j`, the build in `.tools/neo4j`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Environment for `java` and `mvn` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** How to run the launcher: `java -cp <classpath> memengine.Neo4jLauncher ...`. */
export interface Neo4jLauncher {
  java: string;
  classpath: string;
}

/**
 * Builds the in-process Neo4j launcher (`tools/dev-services/neo4j`, a Maven project) into
 * `<projectRoot>/.tools/neo4j` unless the build there was made from the same
 * sources (a hash of them is stamped next to it). The first build downloads
 * about 150 MB from Maven Central into the local Maven repository; progress is
 * logged every ten seconds and Maven's output goes to `.tools/neo4j-build.log`.
 * Maven builds into a private directory that is then renamed into place, so
 * concurrent callers never see half a build. Installs a JDK and Maven with
 * apt-get when they are missing and this process is root (CI).
 */
export async function ensureNeo4jLauncher(
  options: EnsureNeo4jLauncherOptions,
): Promise<Neo4jLauncher> {
  const { log = () => {}, env = process.env } = options;
  const projectRoot = path.resolve(options.projectRoot);
  const sourceDir = path.join(projectRoot, 'tools', 'dev-services', 'neo4j');
  const toolsDir = path.join(projectRoot, '.tools');
  const buildDir = path.join(toolsDir, 'neo4j');
  const stamp = await sourceStamp(sourceDir);
  const classpath = [path.join(buildDir, 'neo4j-launcher.jar'), path.join(buildDir, 'lib', '*')];
  if (await isBuilt(buildDir, stamp)) {
    return { java: await requireCommand('java', env), classpath: classpath.join(path.delimiter) };
  }

  const mvn = await ensureBuildTools(env, log);
  await fs.mkdir(toolsDir, { recursive: true });
  // Build directories whose process is gone were left by a build killed half-way.
  await removeLeftovers(toolsDir, /^neo4j-build-(\d+)-[0-9a-f]+$/, log);
  const staging = path.join(
    toolsDir,
    `neo4j-build-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const logFile = path.join(toolsDir, 'neo4j-build.log');
  const started = Date.now();
  log(`building the Neo4j launcher with Maven (output: ${logFile})`);
  try {
    await runMaven(mvn, sourceDir, staging, logFile, env, log);
    await fs.writeFile(path.join(staging, 'build.stamp'), `${stamp}\n`);
    await fs.rm(path.join(staging, 'target'), { recursive: true, force: true });
    await fs.rm(buildDir, { recursive: true, force: true });
    try {
      await fs.rename(staging, buildDir);
    } catch (error) {
      // Another process put the same build in place first: use theirs.
      if (!(await isBuilt(buildDir, stamp))) throw error;
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  log(`built the Neo4j launcher in ${Math.round((Date.now() - started) / 1000)} s: ${buildDir}`);
  return { java: await requireCommand('java', env), classpath: classpath.join(path.delimiter) };
}

async function runMaven(
  mvn: string,
  sourceDir: string,
  outputDir: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<void> {
  let downloads = 0;
  await runBuild({
    command: mvn,
    args: [
      '-B',
      '-Dstyle.color=never',
      '-f',
      path.join(sourceDir, 'pom.xml'),
      `-Dmemengine.outputDir=${outputDir}`,
      'package',
      'dependency:copy-dependencies',
    ],
    env,
    logFile,
    timeoutMs: BUILD_TIMEOUT_MS,
    failure: 'building the Neo4j launcher failed: mvn',
    tailLines: 30,
    onOutput: (chunk) => {
      downloads += chunk.match(/Downloaded from /g)?.length ?? 0;
    },
    onProgress: (seconds) =>
      log(
        `building the Neo4j launcher… ${seconds} s, ${downloads} files downloaded ` +
          '(the first build fetches about 150 MB from Maven Central)',
      ),
  });
}

/** A hash of the launcher's pom and sources: a build is current when its stamp matches. */
async function sourceStamp(sourceDir: string): Promise<string> {
  const entries = await fs.readdir(sourceDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(sourceDir, path.join(e.parentPath, e.name)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await fs.readFile(path.join(sourceDir, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function isBuilt(buildDir: string, stamp: string): Promise<boolean> {
  try {
    const [stored, libs] = await Promise.all([
      fs.readFile(path.join(buildDir, 'build.stamp'), 'utf8'),
      fs.readdir(path.join(buildDir, 'lib')),
      fs.access(path.join(buildDir, 'neo4j-launcher.jar'), constants.R_OK),
    ]);
    return stored.trim() === stamp && libs.some((f) => f.endsWith('.jar'));
  } catch {
    return false;
  }
}

/**
 * Returns the path of `mvn`, installing a Java 17 JDK and Maven from the
 * distribution when they are missing and this process is root (CI).
 */
async function ensureBuildTools(env: NodeJS.ProcessEnv, log: Log) {
  const missing = [];
  for (const command of ['java', 'mvn']) {
    if (!(await findCommand(command, env))) missing.push(command);
  }
  if (missing.length > 0 && process.getuid?.() === 0 && (await findCommand('apt-get', env))) {
    log(`${missing.join(' and ')} not found: installing a Java 17 JDK and Maven with apt-get`);
    await aptInstall(['openjdk-17-jdk-headless', 'maven'], {
      env,
      log,
      timeoutMs: 900_000,
      update: 'first',
    });
  }
  await requireCommand('java', env);
  return requireCommand('mvn', env);
}

/** The path of `command` on `PATH`; fails with advice on installing a JDK and Maven. */
export async function requireCommand(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  const found = await findCommand(command, env);
  if (found) return found;
  throw new Error(
    `cannot start Neo4j: \`${command}\` is not on PATH; install a Java 17 JDK and Maven ` +
      '(Debian: apt-get install openjdk-17-jdk-headless maven), or set TEST_NEO4J_URL ' +
      'to a running Neo4j 5 server',
  );
}
