// English messages of cli (see ./index.ts for how the catalogues fit together).
export const cli = {} as const;
