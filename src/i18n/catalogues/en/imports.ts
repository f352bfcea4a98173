// English messages of imports (see ./index.ts for how the catalogues fit together).
export const imports = {} as const;
