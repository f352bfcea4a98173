// English messages of ide (see ./index.ts for how the catalogues fit together).
export const ide = {} as const;
