// English messages of services (see ./index.ts for how the catalogues fit together).
export const services = {} as const;
