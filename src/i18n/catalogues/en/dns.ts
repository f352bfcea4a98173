// English messages of dns (see ./index.ts for how the catalogues fit together).
export const dns = {} as const;
