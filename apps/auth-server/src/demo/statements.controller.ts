import { Controller, Get, UseGuards } from '@nestjs/common';
import { BearerTokenGuard, RequireScopes, TokenClaims, type AccessTokenClaims } from '@clavis/resource';

/** The demo API: bank statements for the calling service. Needs scope `statements:read`. */
@Controller('statements')
@UseGuards(BearerTokenGuard)
export class StatementsController {
  @Get()
  @RequireScopes(['statements:read'])
  list(@TokenClaims() claims: AccessTokenClaims): {
    client_id: string;
    statements: { id: string; period: string; balance: string }[];
  } {
    return {
      client_id: String(claims.client_id),
      statements: [
        { id: 'st_2026_10', period: '2026-10', balance: '1204.50' },
        { id: 'st_2026_11', period: '2026-11', balance: '1311.20' },
      ],
    };
  }
}
