/**
 * Log lines, URLs and response bodies are attacker-controlled: nothing from them may reach a
 * terminal as a control sequence. Every string printed from such data goes through here.
 */
// C0 controls except tab, DEL, and C1 controls (0x80-0x9f, which include the 8-bit CSI).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

export function safeForTerminal(text: string): string {
  return text.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
