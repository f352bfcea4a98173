// English messages of diagnosis (see ./index.ts for how the catalogues fit together).
export const diagnosis = {} as const;
