/**
 * DB mode's configuration source (`storage.entities: database`): the configuration file gives the
 * settings, the store the entities. It opens the store, seeds an empty database (configuration version
 * 0, never written) with the file's own entities, loads the first configuration, applies admin writes,
 * and follows changes made by any node or `gatehouse config import`: PostgreSQL notifies at commit,
 * and the version is polled every second besides (the only way on SQLite, and the fallback while the
 * notification connection is down). Each change reloads through the gateway's own reload, which keeps
 * the running configuration when the new one fails. Reloads run one at a time; a version that failed is
 * not retried until another write or a SIGHUP.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { type LoadOptions, loadConfigObject, parseConfigText } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { storageLocation } from '../config/schema/storage.ts'
import { ConfigError } from '../errors/errors.ts'
import type { Logger } from '../observability/logger.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { openStore } from '../storage/open.ts'
import { type EntitySnapshot, type Store, StoreConflictError } from '../storage/store.ts'
import { declaredSections, settingsOf } from './documents.ts'
import { commitImport, planImport } from './import.ts'
import { type EntityKind, entityKinds } from './kinds.ts'
import { byId, loadEntities } from './load.ts'
import type { WriteRequest } from './plan.ts'
import { applyWrite, type EntityContext, type WriteOutcome } from './writer.ts'

/** Milliseconds between two polls of the configuration version. */
export const POLL_INTERVAL_MS = 1000

/** The gateway as this source drives it: `reloadWith` loads, builds and swaps in, or keeps the old one. */
export interface ConfigTarget {
  reloadWith(
    load: (options: LoadOptions) => GatewayConfig | Promise<GatewayConfig>,
    source: string,
  ): Promise<GatewayConfig>
}

/** What the admin API needs to write entities (admin/writes.ts). */
export interface EntityWrites {
  readonly kinds: readonly EntityKind[]
  write(request: WriteRequest): Promise<WriteOutcome>
}

export interface DatabaseSourceOptions {
  readonly file: string
  /** The file, loaded and checked alone (its mode is `database`). */
  readonly fileConfig: GatewayConfig
  readonly registry: PluginRegistry
  readonly env: NodeJS.ProcessEnv
  readonly logger: Logger
}

type Doc = Record<string, unknown>

export class DatabaseSource implements EntityWrites {
  readonly kinds: readonly EntityKind[]
  /** The configuration loaded at open. */
  readonly config: GatewayConfig
  readonly #file: string
  readonly #store: Store
  readonly #registry: PluginRegistry
  readonly #env: NodeJS.ProcessEnv
  readonly #logger: Logger
  readonly #location: string
  #settings: Doc
  #target: ConfigTarget | null = null
  #version: number
  #failed: number | null = null
  #chain: Promise<void> = Promise.resolve()
  #queued: Promise<void> | null = null
  #poll: NodeJS.Timeout | null = null
  #polling = false
  #pollFailing = false
  #stopWatch: (() => Promise<void>) | null = null

  private constructor(options: DatabaseSourceOptions, store: Store, settings: Doc, first: EntitySnapshot) {
    this.#file = options.file
    this.#store = store
    this.#registry = options.registry
    this.#env = options.env
    this.#logger = options.logger.child({ component: 'db-mode' })
    this.#location = storageLocation(options.fileConfig.settings.storage)
    this.kinds = entityKinds(options.registry)
    this.#settings = settings
    this.#version = first.version
    this.config = this.#load(first, settings, this.#loadOptions())
  }

  /** Opens the store, seeds it when empty, and loads the first configuration (ConfigError when it fails). */
  static async open(options: DatabaseSourceOptions): Promise<DatabaseSource> {
    const raw = parseConfigText(await readFile(options.file, 'utf8'), options.file) as Doc
    const kinds = entityKinds(options.registry)
    const settings = settingsOf(raw, kinds)
    const store = await openStore(options.fileConfig.settings.storage)
    try {
      const logger = options.logger.child({ component: 'db-mode' })
      const context: EntityContext = {
        store,
        registry: options.registry,
        kinds,
        settings,
        options: { registry: options.registry, env: options.env, baseDir: dirname(resolve(options.file)) },
        source: options.file,
      }
      await seed(context, raw, options.file, logger)
      return new DatabaseSource(options, store, settings, await store.entities.snapshot())
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** Starts following changes into `target`. */
  async follow(target: ConfigTarget): Promise<void> {
    this.#target = target
    try {
      this.#stopWatch = await this.#store.entities.watch(() => void this.refresh())
    } catch (err) {
      this.#logger.warn({ err }, `cannot listen for changes; polling every ${POLL_INTERVAL_MS} ms`)
    }
    this.#poll = setInterval(() => void this.#check(), POLL_INTERVAL_MS)
    this.#poll.unref()
  }

  /** Applies an admin write, then loads it on this node before answering (reads see it at once). */
  async write(request: WriteRequest): Promise<WriteOutcome> {
    const outcome = await this.#store.withLock('entities', () => applyWrite(this.#context(), request))
    if (outcome.version !== null) await this.refresh()
    return outcome
  }

  /** Loads the stored entities when their version is not the one running (or failed). */
  refresh(): Promise<void> {
    if (this.#queued) return this.#queued
    const queued = this.#serially(async () => {
      this.#queued = null
      await this.#reload(false)
    })
    this.#queued = queued
    return queued
  }

  /** SIGHUP: the configuration file again (its settings), with the stored entities. */
  reloadFile(): Promise<void> {
    return this.#serially(async () => {
      const text = await readFile(this.#file, 'utf8')
      let settings: Doc | undefined
      const loaded = await this.#reload(true, (options) => {
        const raw = parseConfigText(text, this.#file)
        const alone = loadConfigObject(raw, this.#file, options)
        if (
          alone.settings.entities !== 'database' ||
          storageLocation(alone.settings.storage) !== this.#location
        )
          this.#logger.warn({ settings: ['storage'] }, 'settings changed that apply at the next restart')
        settings = settingsOf(raw as Doc, this.kinds)
        return settings
      })
      if (loaded && settings !== undefined) this.#settings = settings
    })
  }

  /** One trivial query on the store (readiness). */
  ping(): Promise<void> {
    return this.#store.ping()
  }

  async close(): Promise<void> {
    if (this.#poll !== null) clearInterval(this.#poll)
    this.#poll = null
    await this.#stopWatch?.().catch(() => {})
    await this.#chain
    await this.#store.close()
  }

  /**
   * Loads the stored entities into the target, unless their version is already running or failed
   * (`force`: always). `settingsFor` gives other settings (a SIGHUP's), read inside the load so a
   * problem in them is reported as any other.
   */
  async #reload(force: boolean, settingsFor?: (options: LoadOptions) => Doc): Promise<boolean> {
    if (this.#target === null) return false
    let snapshot: EntitySnapshot
    try {
      snapshot = await this.#store.entities.snapshot()
    } catch (err) {
      this.#logger.error({ err }, 'cannot read the entities; keeping the running configuration')
      return false
    }
    if (!force && (snapshot.version === this.#version || snapshot.version === this.#failed)) return false
    const source = `${this.#location} (entities version ${snapshot.version})`
    // A SIGHUP's problem is the file's: logged under its name, and no reason not to load this version.
    const label = settingsFor === undefined ? source : this.#file
    try {
      await this.#target.reloadWith((options) => {
        const full = { ...options, baseDir: dirname(resolve(this.#file)) }
        return this.#load(snapshot, settingsFor?.(full) ?? this.#settings, full, source)
      }, label)
      this.#version = snapshot.version
      this.#failed = null
      return true
    } catch (err) {
      if (settingsFor === undefined) this.#failed = snapshot.version
      // The gateway logs a rejected configuration itself.
      if (!(err instanceof ConfigError))
        this.#logger.error({ err, source: label }, 'reload failed; keeping the running configuration')
      return false
    }
  }

  #load(snapshot: EntitySnapshot, settings: Doc, options: LoadOptions, source?: string): GatewayConfig {
    try {
      return loadEntities({
        settings,
        entities: snapshot.entities,
        kinds: this.kinds,
        source: source ?? `${this.#location} (entities version ${snapshot.version})`,
        options,
      })
    } catch (err) {
      throw err instanceof ConfigError ? byId(err, snapshot.entities) : err
    }
  }

  async #check(): Promise<void> {
    if (this.#polling) return
    this.#polling = true
    try {
      const version = await this.#store.entities.version()
      if (this.#pollFailing) this.#logger.info('configuration version readable again')
      this.#pollFailing = false
      if (version !== this.#version && version !== this.#failed) await this.refresh()
    } catch (err) {
      if (!this.#pollFailing) this.#logger.warn({ err }, 'cannot read the configuration version; retrying')
      this.#pollFailing = true
    } finally {
      this.#polling = false
    }
  }

  #serially(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn)
    this.#chain = run.catch(() => {})
    return run
  }

  #loadOptions(): LoadOptions {
    return { registry: this.#registry, env: this.#env, baseDir: dirname(resolve(this.#file)) }
  }

  #context(): EntityContext {
    return {
      store: this.#store,
      registry: this.#registry,
      kinds: this.kinds,
      settings: this.#settings,
      options: this.#loadOptions(),
      source: this.#location,
    }
  }
}

/**
 * Version 0 (nothing ever written): the file's entities become the database's, once. Another node
 * seeding at the same time wins or loses the version race; either way one set is stored.
 */
async function seed(ctx: EntityContext, raw: Doc, file: string, logger: Logger): Promise<void> {
  const declared = declaredSections(raw, ctx.kinds)
  if (declared.length === 0) return
  const version = await ctx.store.entities.version()
  if (version !== 0) {
    logger.warn(
      { sections: declared, version },
      'the configuration file declares entities, which DB mode ignores: the database has its own (gatehouse config import replaces them)',
    )
    return
  }
  const plan = await planImport(ctx, raw, file)
  try {
    await commitImport(ctx, plan)
    logger.info({ sections: declared }, 'seeded the empty database with the configuration file’s entities')
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err
    logger.info('another node seeded the database first')
  }
}
