// Names the README code blocks use without defining them: the page's own elements and
// functions, and an instance made in an earlier block. Checked by tests/types/docs.mjs.
declare const so: import("sendonce").Sendonce;
declare const statusElement: HTMLElement;
declare const formElement: HTMLFormElement;
declare const inbound: { id: string; text: string };
declare const echoFromServer: { id: string; text?: string };
declare function render(value: unknown): void;
declare function show(text: string, status?: string): void;
declare function callBackend(key: string): Promise<{ id: string }>;
declare const session: { token(): Promise<string> };
// A section's snippet after the one that imported them.
declare const Sendonce: typeof import("sendonce").Sendonce;
declare const action: import("sendonce").Action;
// The bot framework examples: a grammY bot, a Bolt app and their handlers.
declare const bot: import("grammy").Bot<import("grammy").Context & import("sendonce/grammy").SendonceContextFlavor>;
declare const app: import("@slack/bolt").App;
declare function openTicket(key: string | undefined): Promise<void>;
declare function approve(key: string | undefined): Promise<void>;
declare const cancelButton: HTMLButtonElement;
