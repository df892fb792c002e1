/** The secrets a client has seen (passwords, tokens, Basic blobs), and the scrubbing of any text that leaves it. */
import { secretsOf, type Credential } from './credentials';

export class Secrets {
  private readonly known = new Set<string>();

  add(secret: string): void {
    this.known.add(secret);
  }

  addCredential(c: Credential | undefined): void {
    for (const s of secretsOf(c)) this.known.add(s);
  }

  /** The text with every known secret replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.known) out = out.split(s).join('***');
    return out;
  }
}
