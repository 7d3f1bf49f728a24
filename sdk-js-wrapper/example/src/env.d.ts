/** The build-time settings the example reads (Vite's `import.meta.env`). */
interface ImportMetaEnv {
  readonly VITE_VIBARIANT_TOKEN?: string;
  readonly VITE_VIBARIANT_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
