// Terminal colours, only when writing to a terminal that wants them.
const enabled = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);

export const bold: (text: string) => string = paint(1);
export const dim: (text: string) => string = paint(2);
export const red: (text: string) => string = paint(31);
export const green: (text: string) => string = paint(32);
export const yellow: (text: string) => string = paint(33);
export const cyan: (text: string) => string = paint(36);
