// English messages of probe (see ./index.ts for how the catalogues fit together).
export const probe = {} as const;
