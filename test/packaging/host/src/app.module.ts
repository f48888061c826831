import { Body, Controller, Get, Module, Post, UseGuards, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { CLAVIS_ENTITIES, CLAVIS_MIGRATIONS, ClavisInProcessResourceModule, ClavisServerModule } from '@clavis/server';
import { BearerTokenGuard, RequireScopes, TokenClaims, type AccessTokenClaims } from '@clavis/resource';

/** The host's own routes: a JSON route parsed by the host's body parser, and a guarded one. */
@Controller('notes')
export class NotesController {
  @Post()
  create(@Body() body: { text?: unknown }): { received: unknown } {
    return { received: body };
  }

  @Get('mine')
  @UseGuards(BearerTokenGuard)
  @RequireScopes(['notes:read'])
  mine(@TokenClaims() claims: AccessTokenClaims): { client_id: unknown; scope: unknown } {
    return { client_id: claims.client_id, scope: claims.scope };
  }
}

export interface HostOptions {
  database: { type: 'sqlite' } | { type: 'postgres'; url: string };
  issuer: string;
  keyEncryptionKey: string;
}

/** A host application as a Nest developer writes it: its own DataSource, Clavis joining it. */
@Module({})
export class AppModule {
  static forRoot(opts: HostOptions): DynamicModule {
    const common = {
      entities: [...CLAVIS_ENTITIES],
      migrations: [...CLAVIS_MIGRATIONS],
      migrationsRun: true,
      synchronize: false,
    };
    const database: TypeOrmModuleOptions =
      opts.database.type === 'postgres'
        ? { ...common, type: 'postgres', url: opts.database.url }
        : { ...common, type: 'better-sqlite3', database: ':memory:' };
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(database),
        ClavisServerModule.forRoot({
          isGlobal: true,
          routePrefix: '/oauth',
          issuer: opts.issuer,
          keyEncryptionKey: opts.keyEncryptionKey,
          scopes: ['notes:read'],
        }),
        // The guard in the same process as the server: one import.
        ClavisInProcessResourceModule.forRoot({ audience: opts.issuer }),
      ],
      controllers: [NotesController],
    };
  }
}
