import { Controller, Get, UseGuards } from '@nestjs/common';
import { BearerTokenGuard, RequireScopes, TokenClaims, type AccessTokenClaims } from '@clavis/resource';

/** One bank statement. */
export interface Statement {
  id: string;
  period: string;
  balance: string;
}

/** `GET /statements`: the calling service's bank statements. Needs a token with scope `statements:read`. */
@Controller('statements')
@UseGuards(BearerTokenGuard)
export class StatementsController {
  @Get()
  @RequireScopes(['statements:read'])
  list(@TokenClaims() claims: AccessTokenClaims): {
    client_id: string;
    served_by: 'statements-api';
    statements: Statement[];
  } {
    return {
      client_id: claims.client_id,
      served_by: 'statements-api',
      statements: [
        { id: 'st_2026_10', period: '2026-10', balance: '1204.50' },
        { id: 'st_2026_11', period: '2026-11', balance: '1311.20' },
      ],
    };
  }
}
