import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSecretFileName, isSecretName } from './secret-names.ts';

describe('isSecretName', () => {
  it('recognises names that hold a secret value', () => {
    for (const name of ['secret', 'clientSecret', 'MICROSOFT_GRAPH_CLIENT_SECRET', 'accessToken', 'newSecretValue', 'db_password', 'apiKey', 'GRAPH_TOKEN'])
      assert.equal(isSecretName(name), true, name);
  });
  it('does not flag names that hold facts about a secret', () => {
    for (const name of ['secretId', 'secretFile', 'SECRET_PATH', 'tokenUrl', 'secretExpiry', 'secret_description', 'key', 'tenantId', 'found'])
      assert.equal(isSecretName(name), false, name);
  });
});

describe('isSecretFileName', () => {
  it('recognises secret files and env files but not examples', () => {
    assert.equal(isSecretFileName('~/Documents/fm-dogfood/m365_graph_secret.txt'), true);
    assert.equal(isSecretFileName('.env.production'), true);
    assert.equal(isSecretFileName('server.pem'), true);
    assert.equal(isSecretFileName('.env.production.example'), false);
    assert.equal(isSecretFileName('docker-compose.production.yml'), false);
  });
});
