import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config';
import { generateSelfSignedCertificate } from './selfSignedCertificate';

/** What HTTPS serves, and what to tell the people who have to accept it. */
export interface ServerCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, colon-separated hex (what browsers show as the fingerprint). */
  fingerprint256: string;
  /** base64 SHA-256 of the public key (SPKI): Chromium's --ignore-certificate-errors-spki-list takes it. */
  spkiSha256: string;
  /** 'config': http.tlsCert/tlsKey; 'generated' this start; 'reused' from the state dir. */
  source: 'config' | 'generated' | 'reused';
  selfSigned: boolean;
  certFile: string;
  validTo: string;
}

const VALID_DAYS = 730;
/** A stored self-signed certificate this close to expiry is replaced at start. */
const RENEW_BEFORE_MS = 7 * 86400_000;

export interface CertificateNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * The certificate from config (both paths given), else the self-signed one kept in
 * `<stateDir>/tls/` — generated on the first start, then reused so the exception a user accepted
 * in the browser stays valid. Bad files stop the start with a ConfigError naming the field.
 */
export function loadServerCertificate(paths: { certFile: string; keyFile: string }, stateDir: string, names: CertificateNames): ServerCertificate {
  if (paths.certFile || paths.keyFile) {
    if (!paths.certFile || !paths.keyFile) throw new ConfigError(paths.certFile ? 'http.tlsKey' : 'http.tlsCert', 'give both http.tlsCert and http.tlsKey, or neither (self-signed)');
    const cert = readFile('http.tlsCert', paths.certFile);
    const key = readFile('http.tlsKey', paths.keyFile);
    return describe(cert, key, 'config', paths.certFile, (reason) => new ConfigError('http.tlsCert', `${paths.certFile}: ${reason}`));
  }
  const dir = path.join(stateDir, 'tls');
  const certFile = path.join(dir, 'self-signed-cert.pem');
  const keyFile = path.join(dir, 'self-signed-key.pem');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    try {
      const stored = describe(fs.readFileSync(certFile, 'utf8'), fs.readFileSync(keyFile, 'utf8'), 'reused', certFile, (reason) => new Error(reason));
      if (Date.parse(stored.validTo) - Date.now() > RENEW_BEFORE_MS) return stored;
    } catch {
      // Unreadable or mismatched: replaced below, as if it were missing.
    }
  }
  const generated = generateSelfSignedCertificate({ commonName: names.dnsNames[0] ?? 'confrec', ...names, validDays: VALID_DAYS });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomically(keyFile, generated.keyPem, 0o600);
  writeAtomically(certFile, generated.certPem, 0o644);
  return describe(generated.certPem, generated.keyPem, 'generated', certFile, (reason) => new Error(`generated certificate: ${reason}`));
}

function readFile(field: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(field, `cannot read ${file}: ${(error as Error).message}`);
  }
}

function describe(cert: string, key: string, source: ServerCertificate['source'], certFile: string, fail: (reason: string) => Error): ServerCertificate {
  let x509: crypto.X509Certificate;
  let privateKey: crypto.KeyObject;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch (error) {
    throw fail(`not a PEM certificate (${(error as Error).message})`);
  }
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch (error) {
    throw fail(`the key is not a PEM private key (${(error as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw fail('the key does not belong to the certificate');
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    cert,
    key,
    fingerprint256: x509.fingerprint256,
    spkiSha256: crypto.createHash('sha256').update(spki).digest('base64'),
    source,
    selfSigned: x509.issuer === x509.subject && x509.verify(x509.publicKey),
    certFile,
    validTo: new Date(x509.validTo).toISOString(),
  };
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content, { mode });
  fs.renameSync(temporary, file);
}
