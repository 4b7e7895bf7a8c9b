/**
 * A throwaway self-signed certificate for 127.0.0.1. TLS is not optional: kubectl only sends a bearer
 * token over https (research report §2), so auth and 401/403 behaviour need it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Cert {
  keyPath: string;
  certPath: string;
  key: Buffer;
  cert: Buffer;
}

export function selfSignedCert(dir: string): Cert {
  const keyPath = path.join(dir, 'apiserver.key');
  const certPath = path.join(dir, 'apiserver.crt');
  try {
    // EC keys are generated in milliseconds; RSA 2048 costs ~100 ms per server start.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=kube-apiserver-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') {
      throw new Error('startTestServer: `openssl` was not found on PATH; it is needed to mint the self-signed certificate of the test API server (kubectl only sends bearer tokens over https).');
    }
    throw new Error(`startTestServer: openssl failed to create a certificate: ${err.stderr?.toString().trim() ?? err.message}`);
  }
  return { keyPath, certPath, key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath) };
}
