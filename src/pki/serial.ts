/** A serial number as pkgtrust compares it: lowercase hex without leading zeros (RFC 5280 4.1.2.2 compares values). */
export function comparableSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, "");
}
