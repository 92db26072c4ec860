/** Version written into packs; kept equal to package.json's version by a test. */
export const toolVersion = '0.1.0';
