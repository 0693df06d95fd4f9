// A real OpenID provider for fn0's tests: oidc-provider (a certified
// implementation), configured from a JSON file that tests/servers/oidc.py
// writes. Its development login page accepts any login name (the password is
// not checked); the accounts listed in the file get their e-mail and groups
// from it, any other login that looks like an e-mail gets that e-mail and no
// group. Nothing here is for production: keys, cookies and accounts are the
// test's.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"port", "issuer", "clients": [...],
//          "accounts": {"admin@example.com": {"groups": ["ops"], "email_verified": true}},
//          "id_token_claims": false, "https": {"cert": PEM file, "key": PEM file}}
// Prints "listening <issuer>" once it answers.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};

// Signing keys made at each start (new key ids each time: a restarted
// provider is a key rotation for fn0), one RSA and one P-256.
function signingKey(type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig' };
}
const keys = [signingKey('rsa', { modulusLength: 2048 }), signingKey('ec', { namedCurve: 'P-256' })];

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys },
  cookies: { keys: ['fn0-test-cookie-key-0123456789'] },
  // With the code flow the ID token carries only what the spec requires
  // unless this is off: fn0 then reads e-mail and groups from userinfo.
  conformIdTokenClaims: !config.id_token_claims,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
  },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
  // First-party clients: no consent page, every scope they ask for is granted.
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, id) {
    const known = accounts[id];
    if (!known && !id.includes('@')) return undefined;
    return {
      accountId: id,
      async claims() {
        const out = { sub: `user-${id}`, email: id, name: id.split('@')[0] };
        out.email_verified = known && known.email_verified === false ? false : true;
        if (known && known.groups) out.groups = known.groups;
        return out;
      },
    };
  },
  ttl: { DeviceCode: 600, AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>error</title><pre id="error">${JSON.stringify(out)}</pre>`;
  },
});

const server = config.https
  ? https.createServer({ cert: readFileSync(config.https.cert), key: readFileSync(config.https.key) }, provider.callback())
  : http.createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${config.issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
