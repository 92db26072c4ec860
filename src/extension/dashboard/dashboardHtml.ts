/** The dashboard page: a strict CSP with a per-load nonce, and only the extension's own bundle. */
import type { DashboardStrings } from '../../protocol/dashboard';
import { webviewPage } from '../webviewPage';

export interface DashboardPageInput {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  strings: DashboardStrings;
  title: string;
  /** For tests; a fresh random nonce otherwise. */
  nonce?: string;
}

export function dashboardHtml(input: DashboardPageInput): string {
  // Lit-based controls use constructable stylesheets, which CSP does not restrict; the page's own CSS is a file.
  return webviewPage(input);
}
