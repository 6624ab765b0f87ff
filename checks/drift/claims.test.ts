/**
 * A mention is checked only where its context makes it a claim about the repository: each false-positive class
 * seen on real repositories, and each claim that context does make, on inline fixtures.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { formatted, parse, writeRepo } from '../testing.ts';
import { checkDrift } from './index.ts';

const repo = writeRepo({
  'compose.yaml': 'services:\n  web:\n    image: ghcr.io/acme/shop:1.2\n  worker:\n    container_name: shop-worker\n',
  'install.sh': '#!/bin/bash\ncase "$1" in\n  --skip-user-creation) SKIP=1 ;;\nesac\n',
  'scripts/daily-backup.sh': '#!/bin/bash\n[[ $1 == --format ]] && echo\n',
  'src/config.py': 'import os\nTOKEN = os.environ["SHOP_API_TOKEN"]\n',
  'src/cli.ts': "export function retryCall() {}\nexport { tempdir as tmpdir }\nconst defaults = resolve('APP_', process.env)\n",
  'docs/guide.md': '# Guide\n',
  'docs/setup.md': '# Setup\n',
  'docs/install.md': '# Install\n\n```bash\ndocker run -d \\\n  --name shop-dms x\n```\n',
  'examples/site/certs/a.pem': '',
  'test/fixtures/release.yml': 'x: 1\n',
  'Makefile': 'build:\n\techo\nstart: build\n\techo\n',
  '.gitignore': 'generated/\n*.local.yml\n',
});
after(() => rmSync(repo, { recursive: true, force: true }));

const check = async (body: string, documentPath = 'docs/ops.md') =>
  formatted(await checkDrift(parse(`# Ops\n\n${body}`, documentPath), { repo, documentPath })).map((line) => line.replace(/^\S+: /, ''));
const rules = (findings: string[]) => findings.map((line) => /\[([\w-]+)\]$/.exec(line)?.[1]);

describe('compose services and containers', () => {
  it('does not take paperless-ngx for a compose service', async () => {
    assert.deepEqual(await check('Install paperless-ngx and `awx-manage`, then web-apii.\n'), []);
  });

  it('takes the service of a compose verb but not the command after `exec SERVICE`', async () => {
    const findings = await check('```bash\ndocker compose exec web awx-manage migrate\ndocker compose logs -f --tail 10 wbe\n```\n');
    assert.deepEqual(findings, ['Unexpected compose service or container `wbe`, expected `web` [drift-compose]']);
  });

  it('checks single-word services and containers named by docker commands', async () => {
    const findings = await check('```sh\ndocker compose restart web\ndocker logs shop-wroker\n```\n');
    assert.deepEqual(findings, ['Unexpected compose service or container `shop-wroker`, expected `shop-worker` [drift-compose]']);
  });

  it('does not check containers the document makes itself or placeholders', async () => {
    const body = '```bash\ndocker run -d --name scratch alpine\ndocker exec scratch ls\ndocker exec -it <CONTAINER_NAME> sh\ndocker logs your-container\n```\n\n```yaml\nservices:\n  mailer:\n    image: x\n```\n\n```bash\ndocker compose up -d mailer\n```\n';
    assert.deepEqual(await check(body), []);
  });
});

describe('paths', () => {
  it('checks ./install.sh run as a command', async () => {
    assert.deepEqual(await check('```bash\n./install.sh --skip-user-creation\n```\n'), []);
    assert.deepEqual(await check('```bash\n./scripts/daily-backups.sh\n```\n'), ['Unexpected path `scripts/daily-backups.sh` that is not in the platform repo, expected `scripts/daily-backup.sh` [drift-path]']);
  });

  it('does not check `./script.mjs`, a name the repo has nowhere (the reader\'s own file)', async () => {
    assert.deepEqual(await check('```bash\nchmod +x ./script.mjs\n./script.mjs\n```\n'), []);
  });

  it('does not check example names and host or container paths', async () => {
    const body = 'Run `zx script.mjs`; data lives in `docker-data/dms/mail-data/` and `/var/lib/docker/volumes`.\n\n```bash\ndocker exec web cat /app/missing.py\n```\n';
    assert.deepEqual(await check(body), []);
  });

  it('resolves a link from the document\'s folder, with a docs site\'s extensionless form', async () => {
    assert.deepEqual(await check('See [the guide](guide.md), [setup](./setup), [home](/setup#install) and [x](../src/config.py).\n'), []);
    assert.deepEqual(await check('See [the guide](docs/guide.md).\n'), ['Unexpected path `docs/docs/guide.md` that is not in the platform repo, expected `docs/guide.md` [drift-path]']);
  });

  it('does not let a same-named file in a test folder satisfy a path from the root', async () => {
    const findings = await check('The release runs `.github/workflows/release.yml`, see `test/fixtures/release.yml`.\n');
    assert.deepEqual(findings, []); // `.github` is not one of this repo's top-level names: not a claim here.
    assert.deepEqual(await check('It reads `test/release.yml`.\n'), ['Unexpected path `test/release.yml` that is not in the platform repo, expected `test/fixtures/release.yml` [drift-path]']);
  });

  it('does not report a path that .gitignore excludes (generated)', async () => {
    assert.deepEqual(await check('It writes `generated/report.json` and `docs/site.local.yml`.\n'), []);
  });
});

describe('environment variables', () => {
  it('does not check a shell variable the document sets itself', async () => {
    assert.deepEqual(await check('```bash\nSOURCE_DIRECTORY="/mnt/data"\necho "$SOURCE_DIRECTORY"\nCONF_NAME=$(php occ ldap:create)\nphp occ x "$CONF_NAME"\n```\n'), []);
  });

  it('does not check paths the document creates (mkdir, a copy\'s target)', async () => {
    assert.deepEqual(await check('```bash\nmkdir data\ncp -r ../../pb/ src/main/proto/\n```\n\nThen `./data/demo.json` and `src/main/proto/x.proto` exist.\n'), []);
  });

  it('does not claim the OS\'s and common tools\' variables', async () => {
    assert.deepEqual(await check('```bash\nls "$XDG_RUNTIME_DIR" && NODE_ENV=production node x.js\n```\n'), []);
  });

  it('checks a variable read with $X, set for a command, or named as an env var in prose', async () => {
    const findings = await check('```bash\necho $SHOP_API_TOKN\nSHOP_API_TOKEN=1 ./install.sh\n```\n\nSet the `SHOP_SECRET_KEY` environment variable.\n');
    assert.deepEqual(rules(findings), ['drift-env', 'drift-env']);
    assert.match(findings[0]!, /`SHOP_API_TOKN` .* expected `SHOP_API_TOKEN`/);
  });

  it('does not take UPPER_CASE words, anchors or headings for env vars', async () => {
    assert.deepEqual(await check('### USER_SQL\n\nSee [USER_SQL](#user_sql) and MAX_SIZE.\n'), []);
  });

  it('accepts a variable the code builds from a prefix (`APP_` + an option)', async () => {
    assert.deepEqual(await check('```bash\nAPP_VERBOSE=true ./install.sh\n```\n'), []);
  });
});

describe('flags', () => {
  it('credits a flag to the script it follows, not to docker before it', async () => {
    const body = '```bash\ndocker exec --env DAILY=1 shop-worker /scripts/daily-backup.sh --format\nbash scripts/daily-backup.sh --fromat\n```\n';
    assert.deepEqual(await check(body), ['Unexpected flag `--fromat` for `daily-backup.sh`, expected one of: --format [drift-flag]']);
  });
});

describe('functions and make targets', () => {
  it('checks camelCase calls written as a call, and exports under another name', async () => {
    assert.deepEqual(await check('Use `retryCall()` and `tmpdir()`.\n\n## retryCall()\n'), []);
    assert.deepEqual(rules(await check('Use `retryCal()`.\n')), ['drift-symbol']);
  });

  it('does not take require() for the repo\'s function', async () => {
    assert.deepEqual(await check('Use `require()`.\n'), []);
  });

  it('checks the targets of make', async () => {
    assert.deepEqual(await check('```bash\nmake build start\n```\n'), []);
    assert.deepEqual(await check('Run `make strat`.\n'), ['Unexpected make target `strat` that `Makefile` does not define, expected `start` [drift-make]']);
  });
});

describe('claims a docs site, a settings table or a container makes', () => {
  it('reads an admonition\'s or a tab\'s indented body as Markdown, not as one indented code block', async () => {
    const body = '!!! tip "Backups"\n\n    ```bash\n    ./scripts/daily-backups.sh\n    ```\n\n=== "Compose"\n\n    Run `make strat`.\n';
    assert.deepEqual(rules(await check(body)), ['drift-path', 'drift-make']);
    assert.deepEqual(await check('    make strat\n'), []); // a plain indented block is not read as commands
  });

  it('points into a nested admonition at the claim\'s own line and column', async () => {
    const body = '!!! note\n\n    Text.\n\n    ??? example "Run"\n\n        ```bash\n        make strat\n        ```\n';
    const findings = formatted(await checkDrift(parse(`# Ops\n\n${body}`, 'docs/ops.md'), { repo, documentPath: 'docs/ops.md' }));
    assert.equal(findings.length, 1);
    assert.match(findings[0]!, /:10:14-10:19: Unexpected make target `strat`/);
  });

  it('takes an UPPER_CASE heading for a variable in a section about variables only', async () => {
    assert.deepEqual(rules(await check('## Environment Variables\n\n### General\n\n##### SHOP_API_TOKN\n')), ['drift-env']);
    assert.deepEqual(rules(await check('---\ntitle: Environment Variables\n---\n\n##### `SHOP_API_TOKN`\n')), ['drift-env']);
    assert.deepEqual(await check('## Apps\n\n### SHOP_API_TOKN\n'), []);
  });

  it('takes a name alone in a settings table\'s cell, by the column\'s header', async () => {
    assert.deepEqual(rules(await check('| Variable | Default |\n| --- | --- |\n| `SHOP_API_TOKEN` | `1` |\n| `SHOP_API_TOKN` | `2` |\n')), ['drift-env']);
    assert.deepEqual(await check('| Example | Meaning |\n| --- | --- |\n| `SHOP_API_TOKN` | `2` |\n'), []);
  });

  it('takes `-e X=1` for the repo\'s image, a lone `--env X=1`, and a compose `environment:` key of the repo\'s service', async () => {
    assert.deepEqual(rules(await check('Add `--env SHOP_API_TOKN=1` to the command.\n')), ['drift-env']);
    assert.deepEqual(rules(await check('```bash\ndocker run -d --restart always -e SHOP_API_TOKN=1 ghcr.io/acme/shop:latest\n```\n')), ['drift-env']);
    assert.deepEqual(await check('```bash\ndocker run -d -e MYSQL_ROOT_PASSWORD=x --env=MYSQL_USER=y mysql:8\n```\n'), []);
    const compose = '```yaml\nservices:\n  web:\n    environment:\n      - SHOP_API_TOKN=1\n  solr:\n    environment:\n      SOLR_LIB_ENABLED: true\n  watch:\n    image: acme/watchtower\n    environment:\n      - WATCHTOWER_CLEANUP=true\n```\n\nWith `WATCHTOWER_CLEANUP` set as above.\n';
    assert.deepEqual(await check(compose), ['Unexpected env var `SHOP_API_TOKN` that no platform code names, expected `SHOP_API_TOKEN` [drift-env]']);
  });

  it('does not take a line of assignments (no program after them) or a name in a link\'s text for a claim', async () => {
    assert.deepEqual(await check('```\nX-Spam-Status: No\n  NO_DNS_FOR_FROM=0.379, NO_RELAYS=-0.001]\n```\n'), []);
    assert.deepEqual(await check('See [the `WATCHTOWER_CLEANUP=true` environment variable](https://example.org/x).\n'), []);
  });

  it('does not take prose alternatives for services, nor a container the docs make with `docker run --name`', async () => {
    assert.deepEqual(await check('Use `docker compose up / down`, not `docker compose start / stop`.\n\n```bash\ndocker exec -it shop-dms bash\n```\n'), []);
  });

  it('takes a path that starts with a name in the document\'s own folder', async () => {
    assert.deepEqual(await check('Run `step inspect certs/a.pem`.\n', 'examples/site/README.md'), []);
    assert.deepEqual(rules(await check('Run `step inspect certs/b.pem`.\n', 'examples/site/README.md')), ['drift-path']);
    assert.deepEqual(await check('Run `step inspect certs/b.pem`.\n'), []); // from docs/: `certs/` is nothing of the repo's
  });
});
