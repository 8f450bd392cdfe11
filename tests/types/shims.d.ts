// grammY's Node typings name node-fetch, which ships no types of its own; the bot usage file
// only needs grammY's own types.
declare module "node-fetch";
